package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const contactColumns = `id, owner_user_id, contact_user_id, relationship, status, created_at, updated_at`

const (
	sqlContactInsert = `INSERT INTO contacts (` + contactColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	sqlContactByID   = `SELECT ` + contactColumns + ` FROM contacts WHERE id = $1`
	sqlContactLock   = `SELECT ` + contactColumns + ` FROM contacts WHERE id = $1 FOR NO KEY UPDATE`
	sqlContactAccept = `UPDATE contacts SET status = 'accepted', updated_at = $1
		WHERE id = $2 RETURNING ` + contactColumns
	// sqlContactsList pages through the edges of $1 after the keyset ($2, $3); $2 NULL
	// is the first page.
	sqlContactsList = `SELECT ` + contactColumns + ` FROM contacts
		WHERE (owner_user_id = $1 OR contact_user_id = $1)
		  AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::text))
		ORDER BY created_at, id LIMIT $4`
	sqlContactsAccepted = `SELECT EXISTS (SELECT 1 FROM contacts
		WHERE ((owner_user_id = $1 AND contact_user_id = $2) OR (owner_user_id = $2 AND contact_user_id = $1))
		  AND status = 'accepted')`
)

// scanContact reads an edge seen from its requester (Direction outgoing).
func scanContact(r pgx.Row) (store.Contact, error) {
	var (
		c   store.Contact
		rel *string
	)
	if err := r.Scan(&c.ID, &c.OwnerUserID, &c.ContactUserID, &rel, &c.Status, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return store.Contact{}, err
	}
	c.Relationship = deref[string](rel)
	c.Direction = protocol.ContactDirectionOutgoing
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// getContact reads an edge (locked with sqlContactLock); ErrNotFound if absent.
func getContact(ctx context.Context, q querier, query string, id protocol.ContactID) (store.Contact, error) {
	if !storable(id) {
		return store.Contact{}, store.ErrNotFound
	}
	c, err := scanContact(q.QueryRow(ctx, query, id))
	if noRows(err) {
		return store.Contact{}, store.ErrNotFound
	}
	return c, mapErr(err)
}

// AddContact implements store.ContactStore.
func (s *Store) AddContact(ctx context.Context, c store.Contact) (store.Contact, error) {
	if c.ID == "" || c.OwnerUserID == "" || c.ContactUserID == "" {
		return store.Contact{}, fmt.Errorf("add contact: id and both users required: %w", store.ErrInvalid)
	}
	if c.OwnerUserID == c.ContactUserID {
		return store.Contact{}, fmt.Errorf("add contact: a user cannot be its own contact: %w", store.ErrInvalid)
	}
	c.Status, c.Direction = protocol.ContactStatusPending, protocol.ContactDirectionOutgoing
	c.CreatedAt = micro(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	_, err := s.pool.Exec(ctx, sqlContactInsert, c.ID, c.OwnerUserID, c.ContactUserID,
		optString(c.Relationship), c.Status, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return store.Contact{}, fmt.Errorf("add contact %s -> %s: %w", c.OwnerUserID, c.ContactUserID, mapErr(err))
	}
	return c, nil
}

// GetContact implements store.ContactStore.
func (s *Store) GetContact(ctx context.Context, id protocol.ContactID) (store.Contact, error) {
	c, err := getContact(ctx, s.pool, sqlContactByID, id)
	if err != nil {
		return store.Contact{}, fmt.Errorf("get contact %s: %w", id, err)
	}
	return c, nil
}

// AcceptContact implements store.ContactStore.
func (s *Store) AcceptContact(ctx context.Context, id protocol.ContactID, acceptingUserID protocol.UserID, at time.Time) (store.Contact, bool, error) {
	var (
		c            store.Contact
		transitioned bool
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if c, err = getContact(ctx, tx, sqlContactLock, id); err != nil {
			return err
		}
		switch acceptingUserID {
		case c.ContactUserID:
		case c.OwnerUserID:
			return fmt.Errorf("only the target may accept: %w", store.ErrForbidden)
		default:
			return fmt.Errorf("not a party of the edge: %w", store.ErrNotFound)
		}
		if c.Status == protocol.ContactStatusAccepted {
			return nil
		}
		c, err = scanContact(tx.QueryRow(ctx, sqlContactAccept, micro(at), id))
		transitioned = err == nil
		return err
	})
	if err != nil {
		return store.Contact{}, false, fmt.Errorf("accept contact %s: %w", id, err)
	}
	c, _ = c.ForViewer(acceptingUserID)
	return c, transitioned, nil
}

// cursorContacts is the cursor kind of ListContacts (keyset: created_at, id).
const cursorContacts = "contacts"

// ListContacts implements store.ContactStore.
func (s *Store) ListContacts(ctx context.Context, userID protocol.UserID, page store.Page) (store.PageResult[store.Contact], error) {
	var (
		res     store.PageResult[store.Contact]
		afterAt *time.Time
		afterID string
	)
	if page.Cursor != "" {
		at, id, err := decodeTimeCursor(page.Cursor, cursorContacts)
		if err != nil {
			return res, fmt.Errorf("list contacts: %w", err)
		}
		afterAt, afterID = &at, id
	}
	res.Items = []store.Contact{}
	if !storable(userID) {
		return res, nil
	}
	limit := page.EffectiveLimit()
	rows, err := s.pool.Query(ctx, sqlContactsList, userID, afterAt, afterID, limit+1)
	if err == nil {
		res.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Contact, error) {
			c, err := scanContact(r)
			c, _ = c.ForViewer(userID)
			return c, err
		})
	}
	if err != nil {
		return store.PageResult[store.Contact]{}, fmt.Errorf("list contacts of %s: %w", userID, mapErr(err))
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		last := res.Items[limit-1]
		res.NextCursor = cursor.Encode(cursorContacts, encodeMicro(last.CreatedAt), string(last.ID))
	}
	return res, nil
}

// decodeTimeCursor decodes a (time, id) keyset cursor of kind.
func decodeTimeCursor(c protocol.Cursor, kind string) (time.Time, string, error) {
	v, err := cursor.Decode(c, kind, 2)
	if err != nil {
		return time.Time{}, "", err
	}
	at, err := cursorTime(v[0])
	if err != nil {
		return time.Time{}, "", err
	}
	id, err := cursorText(v[1])
	if err != nil {
		return time.Time{}, "", err
	}
	return at, id, nil
}

// AreInContact implements store.ContactStore.
func (s *Store) AreInContact(ctx context.Context, userA, userB protocol.UserID) (bool, error) {
	if userA == "" || userB == "" {
		return false, nil
	}
	if userA == userB {
		return true, nil
	}
	if !storable(userA) || !storable(userB) {
		return false, nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, sqlContactsAccepted, userA, userB).Scan(&ok); err != nil {
		return false, fmt.Errorf("are %s and %s in contact: %w", userA, userB, mapErr(err))
	}
	return ok, nil
}
