package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const agentColumns = `id, name, description, display_name, owner_user_id, status,
	api_key_id, api_key_secret_hash, claim_token, created_at, updated_at`

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

func scanAgent(r rowScanner) (store.Agent, error) {
	var (
		a                    store.Agent
		desc, display, claim sql.NullString
		owner                sql.Null[protocol.UserID]
		createdAt, updatedAt int64
	)
	err := r.Scan(&a.ID, &a.Name, &desc, &display, &owner, &a.Status,
		&a.APIKeyID, &a.APIKeySecretHash, &claim, &createdAt, &updatedAt)
	if err != nil {
		return store.Agent{}, err
	}
	a.Description, a.DisplayName = desc.String, display.String
	a.OwnerUserID, a.ClaimToken = owner.V, claim.String
	a.CreatedAt, a.UpdatedAt = fromMicro(createdAt), fromMicro(updatedAt)
	return a, nil
}

// queryAgents runs a query selecting agentColumns and scans every row.
func queryAgents(ctx context.Context, q querier, query string, args ...any) ([]store.Agent, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// getAgentBy reads one agent matching where (a condition on column values).
func (s *Store) getAgentBy(ctx context.Context, what, where string, args ...any) (store.Agent, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+agentColumns+` FROM agents WHERE `+where, args...)
	a, err := scanAgent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Agent{}, fmt.Errorf("get agent by %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("get agent by %s: %w", what, err)
	}
	return a, nil
}

// CreateAgent implements store.AgentStore.
func (s *Store) CreateAgent(ctx context.Context, a store.Agent) (store.Agent, error) {
	if a.ID == "" || a.Name == "" || a.APIKeyID == "" || a.APIKeySecretHash == "" {
		return store.Agent{}, fmt.Errorf("create agent: id, name and API key required: %w", store.ErrInvalid)
	}
	if !a.Status.Valid() {
		return store.Agent{}, fmt.Errorf("create agent: status %q: %w", a.Status, store.ErrInvalid)
	}
	a.CreatedAt = a.CreatedAt.UTC().Truncate(time.Microsecond)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.UpdatedAt = a.UpdatedAt.UTC().Truncate(time.Microsecond)
	err := s.write(ctx, func(tx *txn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO agents (`+agentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Name, optString(a.Description), optString(a.DisplayName),
			optString(a.OwnerUserID), a.Status, a.APIKeyID, a.APIKeySecretHash,
			optString(a.ClaimToken), toMicro(a.CreatedAt), toMicro(a.UpdatedAt))
		return mapErr(err)
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("create agent %q: %w", a.Name, err)
	}
	return a, nil
}

// GetAgent implements store.AgentStore.
func (s *Store) GetAgent(ctx context.Context, id protocol.AgentID) (store.Agent, error) {
	return s.getAgentBy(ctx, "id", `id = ?`, id)
}

// GetAgentByName implements store.AgentStore.
func (s *Store) GetAgentByName(ctx context.Context, name protocol.AgentName) (store.Agent, error) {
	return s.getAgentBy(ctx, "name", `name = ?`, name)
}

// GetAgentByKeyID implements store.AgentStore.
func (s *Store) GetAgentByKeyID(ctx context.Context, keyID string) (store.Agent, error) {
	return s.getAgentBy(ctx, "key id", `api_key_id = ? AND status <> 'suspended'`, keyID)
}

// GetAgentsByIDs implements store.AgentStore.
func (s *Store) GetAgentsByIDs(ctx context.Context, ids []protocol.AgentID) ([]store.Agent, error) {
	return getAgentsIn(ctx, s, "id", ids)
}

// GetAgentsByNames implements store.AgentStore.
func (s *Store) GetAgentsByNames(ctx context.Context, names []string) ([]store.Agent, error) {
	return getAgentsIn(ctx, s, "name", names)
}

// getAgentsIn reads the agents whose column (id or name) is among values.
func getAgentsIn[T ~string](ctx context.Context, s *Store, column string, values []T) ([]store.Agent, error) {
	values = unique(values)
	if len(values) == 0 {
		return []store.Agent{}, nil
	}
	out, err := queryAgents(ctx, s.r, `SELECT `+agentColumns+` FROM agents
		WHERE `+column+` IN (`+placeholders(len(values))+`) ORDER BY name`, stringArgs(values)...)
	if err != nil {
		return nil, fmt.Errorf("get agents by %s: %w", column, err)
	}
	return out, nil
}

// ClaimAgent implements store.AgentStore.
func (s *Store) ClaimAgent(ctx context.Context, claimToken string, ownerUserID protocol.UserID, at time.Time) (store.Agent, bool, error) {
	if ownerUserID == "" {
		return store.Agent{}, false, fmt.Errorf("claim agent: owner required: %w", store.ErrInvalid)
	}
	if claimToken == "" {
		return store.Agent{}, false, fmt.Errorf("claim agent: %w", store.ErrNotFound)
	}
	var (
		a     store.Agent
		first bool
	)
	err := s.write(ctx, func(tx *txn) error {
		row := tx.QueryRowContext(ctx, `UPDATE agents SET owner_user_id = ?, updated_at = ?
			WHERE claim_token = ? AND owner_user_id IS NULL RETURNING `+agentColumns,
			ownerUserID, toMicro(at), claimToken)
		var err error
		a, err = scanAgent(row)
		if err == nil {
			first = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		a, err = scanAgent(tx.QueryRowContext(ctx,
			`SELECT `+agentColumns+` FROM agents WHERE claim_token = ?`, claimToken))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if a.OwnerUserID != ownerUserID {
			return store.ErrOwnerMismatch
		}
		return nil
	})
	if err != nil {
		return store.Agent{}, false, fmt.Errorf("claim agent: %w", err)
	}
	return a, first, nil
}

// RotateAgentKey implements store.AgentStore.
func (s *Store) RotateAgentKey(ctx context.Context, name protocol.AgentName, ownerUserID protocol.UserID, keyID, secretHash string, at time.Time) (store.Agent, error) {
	if keyID == "" || secretHash == "" {
		return store.Agent{}, fmt.Errorf("rotate agent key: key required: %w", store.ErrInvalid)
	}
	var a store.Agent
	err := s.write(ctx, func(tx *txn) error {
		cur, err := scanAgent(tx.QueryRowContext(ctx,
			`SELECT `+agentColumns+` FROM agents WHERE name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if cur.OwnerUserID != ownerUserID {
			return fmt.Errorf("owned by another user: %w", store.ErrConflict)
		}
		if cur.Status == protocol.AgentStatusSuspended {
			return fmt.Errorf("agent suspended: %w", store.ErrConflict)
		}
		a, err = scanAgent(tx.QueryRowContext(ctx, `UPDATE agents
			SET api_key_id = ?, api_key_secret_hash = ?, updated_at = ?
			WHERE id = ? RETURNING `+agentColumns, keyID, secretHash, toMicro(at), cur.ID))
		return mapErr(err)
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("rotate key of agent %q: %w", name, err)
	}
	return a, nil
}

// SetAgentStatus implements store.AgentStore.
func (s *Store) SetAgentStatus(ctx context.Context, id protocol.AgentID, status protocol.AgentStatus, at time.Time) (store.Agent, error) {
	if !status.Valid() {
		return store.Agent{}, fmt.Errorf("set agent status %q: %w", status, store.ErrInvalid)
	}
	var a store.Agent
	err := s.write(ctx, func(tx *txn) error {
		var err error
		a, err = scanAgent(tx.QueryRowContext(ctx, `UPDATE agents SET status = ?, updated_at = ?
			WHERE id = ? RETURNING `+agentColumns, status, toMicro(at), id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return store.Agent{}, fmt.Errorf("set status of agent %s: %w", id, err)
	}
	return a, nil
}

// AgentsByOwner implements store.AgentStore.
func (s *Store) AgentsByOwner(ctx context.Context, ownerUserID protocol.UserID) ([]store.Agent, error) {
	if ownerUserID == "" {
		return []store.Agent{}, nil
	}
	out, err := queryAgents(ctx, s.r, `SELECT `+agentColumns+` FROM agents
		WHERE owner_user_id = ? ORDER BY name`, ownerUserID)
	if err != nil {
		return nil, fmt.Errorf("agents of owner %s: %w", ownerUserID, err)
	}
	return out, nil
}

// cursorAgents is the cursor kind of ListVisibleAgents (keyset: name).
const cursorAgents = "agents"

// ListVisibleAgents implements store.AgentStore.
func (s *Store) ListVisibleAgents(ctx context.Context, viewerAgentID protocol.AgentID, page store.Page) (store.PageResult[store.Agent], error) {
	var res store.PageResult[store.Agent]
	after := ""
	if page.Cursor != "" {
		v, err := cursor.Decode(page.Cursor, cursorAgents, 1)
		if err != nil {
			return res, fmt.Errorf("list visible agents: %w", err)
		}
		after = v[0]
	}
	limit := page.EffectiveLimit()
	err := s.read(ctx, func(tx *txn) error {
		viewer, err := scanAgent(tx.QueryRowContext(ctx,
			`SELECT `+agentColumns+` FROM agents WHERE id = ?`, viewerAgentID))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if viewer.OwnerUserID == "" {
			if string(viewer.Name) > after {
				res.Items = []store.Agent{viewer}
			}
			return nil
		}
		items, err := queryAgents(ctx, tx, `SELECT `+agentColumns+` FROM agents
			WHERE name > ?1 AND owner_user_id IN (
				SELECT ?2
				UNION SELECT contact_user_id FROM contacts WHERE owner_user_id = ?2 AND status = 'accepted'
				UNION SELECT owner_user_id FROM contacts WHERE contact_user_id = ?2 AND status = 'accepted')
			ORDER BY name LIMIT ?3`, after, viewer.OwnerUserID, limit+1)
		res.Items = items
		return err
	})
	if err != nil {
		return store.PageResult[store.Agent]{}, fmt.Errorf("list agents visible to %s: %w", viewerAgentID, err)
	}
	if res.Items == nil {
		res.Items = []store.Agent{}
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		res.NextCursor = cursor.Encode(cursorAgents, string(res.Items[limit-1].Name))
	}
	return res, nil
}
