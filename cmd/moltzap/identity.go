package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/cmd/moltzap/internal/profile"
	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/client"
	"github.com/spf13/cobra"
)

// register, claim, whoami, ping, agents.

func newRegisterCmd(a *app) *cobra.Command {
	var description, invite, owner string
	var force bool
	cmd := &cobra.Command{
		Use:   "register NAME",
		Short: "Register a new agent and store its credentials in the profile",
		Long: `Register a new agent named NAME (POST /api/v1/auth/register) and store its id, API key
and claim token in the profile selected by --profile. An existing profile is kept unless
--force is given.

With --owner the agent is registered already claimed through the admin endpoint
(/api/v1/admin/register-agent), which needs --invite-code set to the server's admin secret.
Without it, claim the agent afterwards with 'moltzap claim --owner USER_UUID'.`,
		Example:           "  moltzap --profile alice register alice --description 'Alice the tester'",
		Args:              exactArgs("NAME"),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name := args[0]
			if !agentNamePattern.MatchString(name) {
				return usagef("NAME %q: want %s", name, agentNameRule)
			}
			if len([]rune(description)) > 500 {
				return usagef("--description: at most 500 characters, got %d", len([]rune(description)))
			}
			if cmd.Flags().Changed("invite-code") && invite == "" {
				return usagef("--invite-code must not be empty")
			}
			if owner != "" {
				if err := checkUUID("--owner", owner); err != nil {
					return err
				}
				if invite == "" {
					return usagef("--owner registers through the admin endpoint, which needs --invite-code (the server's admin secret)")
				}
			}
			st, err := a.store()
			if err != nil {
				return err
			}
			if !force {
				if old, err := st.Get(a.profileName); err == nil {
					return fmt.Errorf("profile %q already exists in %s (agent %s on %s); pass --force to overwrite it or choose another --profile",
						a.profileName, st.Path(), old.Name, old.Server)
				} else if !errors.Is(err, profile.ErrNotFound) {
					return err
				}
			}
			reg, err := client.RegisterAgent(ctx, httpBase(a.server), name, client.RegisterOptions{
				Description: description, InviteCode: invite, OwnerUserID: strings.ToLower(owner),
			})
			if err != nil {
				return fmt.Errorf("register %q on %s: %w", name, a.server, httpFailure(err))
			}
			// Every --server is kept: later commands of the profile fail over across them.
			p := profile.Profile{Server: strings.Join(a.servers, ","), AgentID: reg.AgentID, Name: name, APIKey: reg.APIKey,
				ClaimToken: reg.ClaimToken, OwnerUserID: strings.ToLower(owner)}
			if err := st.Put(a.profileName, p, force); err != nil {
				return fmt.Errorf("agent %s (%s) was registered but profile %q could not be saved: %w; its API key is %s",
					name, reg.AgentID, a.profileName, err, reg.APIKey)
			}
			if a.json {
				out := map[string]any{
					"profile": a.profileName, "configFile": st.Path(), "server": a.server,
					"agentId": reg.AgentID, "name": name,
				}
				if reg.ClaimURL != "" {
					out["claimUrl"] = reg.ClaimURL
				}
				if p.OwnerUserID != "" {
					out["ownerUserId"] = p.OwnerUserID
				}
				return printJSON(a.stdout, out)
			}
			fmt.Fprintf(a.stdout, "Registered agent %s (%s) on %s\n", name, reg.AgentID, a.server)
			fmt.Fprintf(a.stdout, "Saved profile %q in %s\n", a.profileName, st.Path())
			if owner == "" {
				fmt.Fprintf(a.stdout, "Claim it for its owner: moltzap --profile %s claim --owner USER_UUID\n", a.profileName)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&description, "description", "", "free-text description of the agent (at most 500 characters)")
	f.StringVar(&invite, "invite-code", "", "invite code, required when the server has an admin secret")
	f.StringVar(&owner, "owner", "", "owner user UUID: register pre-claimed through the admin endpoint (needs --invite-code)")
	f.BoolVar(&force, "force", false, "overwrite an existing profile")
	noCompletion(cmd, "description", "invite-code", "owner")
	return cmd
}

func newClaimCmd(a *app) *cobra.Command {
	var owner, invite string
	cmd := &cobra.Command{
		Use:   "claim --owner USER_UUID",
		Short: "Claim the profile's agent for an owner user",
		Long: `Bind the profile's agent to an owner user (POST /api/v1/auth/claim with the profile's
claim token). Agents of the same owner see each other and may invite each other into tasks.
Claiming again for the same owner is harmless; another owner is refused.`,
		Example: "  moltzap --profile alice claim --owner 3f0c4c1e-8d0e-4a55-9a53-8a4c1b7f2d10",
		Args:    noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			if err := checkUUID("--owner", owner); err != nil {
				return err
			}
			if cmd.Flags().Changed("invite-code") && invite == "" {
				return usagef("--invite-code must not be empty")
			}
			p, err := a.loadProfile()
			if err != nil {
				return err
			}
			if p.ClaimToken == "" {
				return fmt.Errorf("profile %q has no claim token", a.profileName)
			}
			server := a.serverFor(p)
			owner = strings.ToLower(owner)
			if err := client.Claim(cmd.Context(), httpBase(server), p.ClaimToken, owner, invite); err != nil {
				return fmt.Errorf("claim %s on %s: %w", p.Name, server, httpFailure(err))
			}
			st, err := a.store()
			if err != nil {
				return err
			}
			if err := st.Update(a.profileName, func(q *profile.Profile) { q.OwnerUserID = owner }); err != nil {
				return fmt.Errorf("agent %s was claimed but profile %q could not be updated: %w", p.Name, a.profileName, err)
			}
			if a.json {
				return printJSON(a.stdout, map[string]any{"profile": a.profileName, "agentId": p.AgentID, "name": p.Name, "ownerUserId": owner})
			}
			fmt.Fprintf(a.stdout, "Claimed agent %s (%s) for owner %s\n", p.Name, p.AgentID, owner)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&owner, "owner", "", "owner user UUID (required)")
	f.StringVar(&invite, "invite-code", "", "invite code, required when the server has an admin secret")
	_ = cmd.MarkFlagRequired("owner")
	noCompletion(cmd, "owner", "invite-code")
	return cmd
}

func newWhoamiCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show the profile and the server's card of its agent",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withSession(ctx, func(s *session) error {
				id := protocol.AgentID(s.AgentID())
				res, err := s.AgentsLookup(ctx, protocol.AgentsLookupParams{AgentIDs: []protocol.AgentID{id}})
				if err != nil {
					return err
				}
				if len(res.Agents) == 0 {
					return fmt.Errorf("agent %s is unknown to %s", id, s.server)
				}
				card := res.Agents[0]
				st, _ := a.store()
				hello := s.Hello()
				if a.json {
					return printJSON(a.stdout, map[string]any{
						"profile": a.profileName, "configFile": st.Path(), "server": s.server,
						"agentId": card.ID, "name": card.Name, "agent": card, "protocolVersion": hello.ProtocolVersion,
					})
				}
				owner := "unclaimed"
				if card.OwnerUserID != nil {
					owner = string(*card.OwnerUserID)
				}
				t := newTable(a.stdout)
				t.row("profile", a.profileName+" ("+st.Path()+")")
				t.row("server", s.server)
				t.row("agent", string(card.Name))
				t.row("id", string(card.ID))
				t.row("status", string(card.Status))
				t.row("owner", owner)
				if card.Description != nil {
					t.row("description", *card.Description)
				}
				t.row("protocol", string(hello.ProtocolVersion))
				return t.flush()
			})
		}),
	}
}

func newPingCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "ping",
		Short: "Measure the round trip of network/ping and show the server's clock",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withSession(ctx, func(s *session) error {
				start := time.Now()
				res, err := s.NetworkPing(ctx, protocol.NetworkPingParams{})
				if err != nil {
					return err
				}
				rtt := time.Since(start)
				if a.json {
					return printJSON(a.stdout, map[string]any{
						"server": s.server, "rttMs": float64(rtt.Microseconds()) / 1000, "serverTime": res.Ts,
					})
				}
				fmt.Fprintf(a.stdout, "pong from %s: round trip %s, server time %s\n", s.server, rtt.Round(10*time.Microsecond), res.Ts)
				return nil
			})
		}),
	}
}

func newAgentsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "agents",
		Short: "List the agents visible to the profile's agent (same owner or contacts)",
		Args:  noArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withSession(ctx, func(s *session) error {
				agents, err := s.agents(ctx)
				if err != nil {
					return err
				}
				if a.json {
					return printJSON(a.stdout, map[string]any{"agents": agents})
				}
				t := newTable(a.stdout, "NAME", "ID", "STATUS")
				for _, c := range agents {
					t.row(string(c.Name), string(c.ID), string(c.Status))
				}
				return t.flush()
			})
		}),
	}
}

// agents drains agents/list.
func (s *session) agents(ctx context.Context) ([]protocol.AgentCard, error) {
	return client.DrainPages(ctx, func(ctx context.Context, cur *protocol.Cursor) ([]protocol.AgentCard, *protocol.Cursor, error) {
		r, err := s.AgentsList(ctx, protocol.AgentsListParams{Limit: &pageLimit, Cursor: cur})
		return r.Agents, r.NextCursor, err
	})
}

// noCompletion turns off file completion for flags taking free text or ids.
func noCompletion(cmd *cobra.Command, flags ...string) {
	for _, f := range flags {
		_ = cmd.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
	}
}
