package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const contactColumns = `id, owner_user_id, contact_user_id, relationship, status, created_at, updated_at`

// scanContact reads an edge seen from its requester (Direction outgoing).
func scanContact(r rowScanner) (store.Contact, error) {
	var (
		c                    store.Contact
		rel                  sql.NullString
		createdAt, updatedAt int64
	)
	if err := r.Scan(&c.ID, &c.OwnerUserID, &c.ContactUserID, &rel, &c.Status, &createdAt, &updatedAt); err != nil {
		return store.Contact{}, err
	}
	c.Relationship = rel.String
	c.Direction = protocol.ContactDirectionOutgoing
	c.CreatedAt, c.UpdatedAt = fromMicro(createdAt), fromMicro(updatedAt)
	return c, nil
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
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Microsecond)
	c.UpdatedAt = c.CreatedAt
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO contacts (`+contactColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.OwnerUserID, c.ContactUserID, optString(c.Relationship),
			c.Status, toMicro(c.CreatedAt), toMicro(c.UpdatedAt))
		return mapErr(err)
	})
	if err != nil {
		return store.Contact{}, fmt.Errorf("add contact %s -> %s: %w", c.OwnerUserID, c.ContactUserID, err)
	}
	return c, nil
}

// GetContact implements store.ContactStore.
func (s *Store) GetContact(ctx context.Context, id protocol.ContactID) (store.Contact, error) {
	c, err := scanContact(s.r.QueryRowContext(ctx,
		`SELECT `+contactColumns+` FROM contacts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Contact{}, fmt.Errorf("get contact %s: %w", id, store.ErrNotFound)
	}
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
	err := s.write(ctx, func(tx *txn) error {
		var err error
		c, err = scanContact(tx.QueryRowContext(ctx,
			`SELECT `+contactColumns+` FROM contacts WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
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
		c, err = scanContact(tx.QueryRowContext(ctx, `UPDATE contacts
			SET status = 'accepted', updated_at = ? WHERE id = ? RETURNING `+contactColumns,
			toMicro(at), id))
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
	var res store.PageResult[store.Contact]
	afterAt, afterID := int64(-1<<63), ""
	if page.Cursor != "" {
		v, err := cursor.Decode(page.Cursor, cursorContacts, 2)
		if err != nil {
			return res, fmt.Errorf("list contacts: %w", err)
		}
		if afterAt, err = cursor.Int(v[0]); err != nil {
			return res, fmt.Errorf("list contacts: %w", err)
		}
		afterID = v[1]
	}
	limit := page.EffectiveLimit()
	rows, err := s.r.QueryContext(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE (owner_user_id = ?1 OR contact_user_id = ?1)
		  AND (created_at > ?2 OR (created_at = ?2 AND id > ?3))
		ORDER BY created_at, id LIMIT ?4`, userID, afterAt, afterID, limit+1)
	if err != nil {
		return res, fmt.Errorf("list contacts of %s: %w", userID, err)
	}
	defer rows.Close()
	res.Items = []store.Contact{}
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return store.PageResult[store.Contact]{}, fmt.Errorf("list contacts of %s: %w", userID, err)
		}
		c, _ = c.ForViewer(userID)
		res.Items = append(res.Items, c)
	}
	if err := rows.Err(); err != nil {
		return store.PageResult[store.Contact]{}, fmt.Errorf("list contacts of %s: %w", userID, err)
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		last := res.Items[limit-1]
		res.NextCursor = cursor.Encode(cursorContacts, strconv.FormatInt(toMicro(last.CreatedAt), 10), string(last.ID))
	}
	return res, nil
}

// AreInContact implements store.ContactStore.
func (s *Store) AreInContact(ctx context.Context, userA, userB protocol.UserID) (bool, error) {
	if userA == "" || userB == "" {
		return false, nil
	}
	if userA == userB {
		return true, nil
	}
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM contacts
		WHERE min(owner_user_id, contact_user_id) = min(?1, ?2)
		  AND max(owner_user_id, contact_user_id) = max(?1, ?2)
		  AND status = 'accepted'`, userA, userB).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("are %s and %s in contact: %w", userA, userB, err)
	}
	return n > 0, nil
}
