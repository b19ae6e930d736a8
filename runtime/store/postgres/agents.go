package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/store"
	"github.com/moltzap/moltzap-go/runtime/store/internal/cursor"
)

const agentColumns = `id, name, description, display_name, owner_user_id, status,
	api_key_id, api_key_secret_hash, claim_token, created_at, updated_at`

const (
	sqlAgentInsert = `INSERT INTO agents (` + agentColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	sqlAgentByID     = `SELECT ` + agentColumns + ` FROM agents WHERE id = $1`
	sqlAgentByName   = `SELECT ` + agentColumns + ` FROM agents WHERE name = $1`
	sqlAgentByKeyID  = `SELECT ` + agentColumns + ` FROM agents WHERE api_key_id = $1 AND status <> 'suspended'`
	sqlAgentByToken  = `SELECT ` + agentColumns + ` FROM agents WHERE claim_token = $1`
	sqlAgentsByIDs   = `SELECT ` + agentColumns + ` FROM agents WHERE id = ANY($1) ORDER BY name`
	sqlAgentsByNames = `SELECT ` + agentColumns + ` FROM agents WHERE name = ANY($1) ORDER BY name`
	sqlAgentsByOwner = `SELECT ` + agentColumns + ` FROM agents WHERE owner_user_id = $1 ORDER BY name`
	sqlAgentNameLock = `SELECT ` + agentColumns + ` FROM agents WHERE name = $1 FOR UPDATE`
	sqlAgentClaim    = `UPDATE agents SET owner_user_id = $1, updated_at = $2
		WHERE claim_token = $3 AND owner_user_id IS NULL RETURNING ` + agentColumns
	sqlAgentRotateKey = `UPDATE agents SET api_key_id = $1, api_key_secret_hash = $2, updated_at = $3
		WHERE id = $4 RETURNING ` + agentColumns
	sqlAgentSetStatus = `UPDATE agents SET status = $1, updated_at = $2 WHERE id = $3 RETURNING ` + agentColumns
	// sqlAgentsVisible lists, after name $1, the agents owned by $2 or by a user joined to
	// $2 by an accepted contact edge (either direction).
	sqlAgentsVisible = `SELECT ` + agentColumns + ` FROM agents
		WHERE name > $1 AND owner_user_id IN (
			SELECT $2::text
			UNION SELECT contact_user_id FROM contacts WHERE owner_user_id = $2 AND status = 'accepted'
			UNION SELECT owner_user_id FROM contacts WHERE contact_user_id = $2 AND status = 'accepted')
		ORDER BY name LIMIT $3`
)

// querier runs statements (*pgxpool.Pool or pgx.Tx).
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func scanAgent(r pgx.Row) (store.Agent, error) {
	var (
		a                           store.Agent
		desc, display, owner, claim *string
	)
	err := r.Scan(&a.ID, &a.Name, &desc, &display, &owner, &a.Status,
		&a.APIKeyID, &a.APIKeySecretHash, &claim, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return store.Agent{}, err
	}
	a.Description, a.DisplayName = deref[string](desc), deref[string](display)
	a.OwnerUserID, a.ClaimToken = deref[protocol.UserID](owner), deref[string](claim)
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// queryAgents runs a query selecting agentColumns and scans every row.
func queryAgents(ctx context.Context, q querier, query string, args ...any) ([]store.Agent, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Agent, error) { return scanAgent(r) })
}

// getAgent reads the agent a single-row query selects; ErrNotFound when there is none or
// when key (the looked-up value) is text PostgreSQL cannot hold.
func getAgent(ctx context.Context, q querier, what, query, key string) (store.Agent, error) {
	if !storable(key) {
		return store.Agent{}, fmt.Errorf("agent by %s: %w", what, store.ErrNotFound)
	}
	a, err := scanAgent(q.QueryRow(ctx, query, key))
	if noRows(err) {
		return store.Agent{}, fmt.Errorf("agent by %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("agent by %s: %w", what, mapErr(err))
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
	a.CreatedAt = micro(a.CreatedAt)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	a.UpdatedAt = micro(a.UpdatedAt)
	_, err := s.pool.Exec(ctx, sqlAgentInsert,
		a.ID, a.Name, optString(a.Description), optString(a.DisplayName),
		optString(a.OwnerUserID), a.Status, a.APIKeyID, a.APIKeySecretHash,
		optString(a.ClaimToken), a.CreatedAt, a.UpdatedAt)
	if err != nil {
		return store.Agent{}, fmt.Errorf("create agent %q: %w", a.Name, mapErr(err))
	}
	return a, nil
}

// GetAgent implements store.AgentStore.
func (s *Store) GetAgent(ctx context.Context, id protocol.AgentID) (store.Agent, error) {
	a, err := getAgent(ctx, s.pool, "id", sqlAgentByID, string(id))
	if err != nil {
		return store.Agent{}, fmt.Errorf("get %w", err)
	}
	return a, nil
}

// GetAgentByName implements store.AgentStore.
func (s *Store) GetAgentByName(ctx context.Context, name protocol.AgentName) (store.Agent, error) {
	a, err := getAgent(ctx, s.pool, "name", sqlAgentByName, string(name))
	if err != nil {
		return store.Agent{}, fmt.Errorf("get %w", err)
	}
	return a, nil
}

// GetAgentByKeyID implements store.AgentStore.
func (s *Store) GetAgentByKeyID(ctx context.Context, keyID string) (store.Agent, error) {
	a, err := getAgent(ctx, s.pool, "key id", sqlAgentByKeyID, keyID)
	if err != nil {
		return store.Agent{}, fmt.Errorf("get %w", err)
	}
	return a, nil
}

// GetAgentsByIDs implements store.AgentStore.
func (s *Store) GetAgentsByIDs(ctx context.Context, ids []protocol.AgentID) ([]store.Agent, error) {
	return s.getAgentsIn(ctx, "id", sqlAgentsByIDs, unique(ids))
}

// GetAgentsByNames implements store.AgentStore.
func (s *Store) GetAgentsByNames(ctx context.Context, names []string) ([]store.Agent, error) {
	return s.getAgentsIn(ctx, "name", sqlAgentsByNames, unique(names))
}

// getAgentsIn reads the agents whose id or name (what) is among values.
func (s *Store) getAgentsIn(ctx context.Context, what, query string, values []string) ([]store.Agent, error) {
	if len(values) == 0 {
		return []store.Agent{}, nil
	}
	out, err := queryAgents(ctx, s.pool, query, values)
	if err != nil {
		return nil, fmt.Errorf("get agents by %s: %w", what, mapErr(err))
	}
	return out, nil
}

// ClaimAgent implements store.AgentStore.
func (s *Store) ClaimAgent(ctx context.Context, claimToken string, ownerUserID protocol.UserID, at time.Time) (store.Agent, bool, error) {
	if ownerUserID == "" {
		return store.Agent{}, false, fmt.Errorf("claim agent: owner required: %w", store.ErrInvalid)
	}
	if claimToken == "" || !storable(claimToken) {
		return store.Agent{}, false, fmt.Errorf("claim agent: %w", store.ErrNotFound)
	}
	var (
		a     store.Agent
		first bool
	)
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		// A concurrent claim makes this UPDATE wait, then re-check owner_user_id IS NULL
		// against the committed row: exactly one claimant sets the owner.
		a, err = scanAgent(tx.QueryRow(ctx, sqlAgentClaim, ownerUserID, micro(at), claimToken))
		if err == nil {
			first = true
			return nil
		}
		if !noRows(err) {
			return err
		}
		if a, err = getAgent(ctx, tx, "claim token", sqlAgentByToken, claimToken); err != nil {
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
	err := s.write(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE: a concurrent claim or suspension cannot slip between the checks
		// and the update.
		cur, err := getAgent(ctx, tx, "name", sqlAgentNameLock, string(name))
		if err != nil {
			return err
		}
		if cur.OwnerUserID != ownerUserID {
			return fmt.Errorf("owned by another user: %w", store.ErrConflict)
		}
		if cur.Status == protocol.AgentStatusSuspended {
			return fmt.Errorf("agent suspended: %w", store.ErrConflict)
		}
		a, err = scanAgent(tx.QueryRow(ctx, sqlAgentRotateKey, keyID, secretHash, micro(at), cur.ID))
		return err
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
	a, err := scanAgent(s.pool.QueryRow(ctx, sqlAgentSetStatus, status, micro(at), id))
	if noRows(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Agent{}, fmt.Errorf("set status of agent %s: %w", id, mapErr(err))
	}
	return a, nil
}

// AgentsByOwner implements store.AgentStore.
func (s *Store) AgentsByOwner(ctx context.Context, ownerUserID protocol.UserID) ([]store.Agent, error) {
	if ownerUserID == "" || !storable(ownerUserID) {
		return []store.Agent{}, nil
	}
	out, err := queryAgents(ctx, s.pool, sqlAgentsByOwner, ownerUserID)
	if err != nil {
		return nil, fmt.Errorf("agents of owner %s: %w", ownerUserID, mapErr(err))
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
		if err == nil {
			after, err = cursorText(v[0])
		}
		if err != nil {
			return res, fmt.Errorf("list visible agents: %w", err)
		}
	}
	limit := page.EffectiveLimit()
	err := s.read(ctx, func(tx pgx.Tx) error {
		viewer, err := getAgent(ctx, tx, "id", sqlAgentByID, string(viewerAgentID))
		if err != nil {
			return err
		}
		if viewer.OwnerUserID == "" {
			res.Items = []store.Agent{}
			if string(viewer.Name) > after {
				res.Items = append(res.Items, viewer)
			}
			return nil
		}
		res.Items, err = queryAgents(ctx, tx, sqlAgentsVisible, after, viewer.OwnerUserID, limit+1)
		return err
	})
	if err != nil {
		return store.PageResult[store.Agent]{}, fmt.Errorf("list agents visible to %s: %w", viewerAgentID, err)
	}
	if len(res.Items) > limit {
		res.Items = res.Items[:limit]
		res.NextCursor = cursor.Encode(cursorAgents, string(res.Items[limit-1].Name))
	}
	return res, nil
}
