package server

import (
	"fmt"
	"slices"

	"github.com/moltzap/moltzap-go/generated/protocol"
)

// AllowlistWildcard is the Config.AppAllowlist key whose owners apply to every app id not
// listed by itself ({"*": []}: only listed apps may register).
const AllowlistWildcard protocol.AppID = "*"

// checkAppAllowed enforces Config.AppAllowlist for an apps/register of appID by owner.
func (s *Server) checkAppAllowed(appID protocol.AppID, owner protocol.UserID) error {
	list := s.cfg.AppAllowlist
	if len(list) == 0 {
		return nil
	}
	owners, ok := list[appID]
	if !ok {
		if owners, ok = list[AllowlistWildcard]; !ok {
			return nil // not listed and no "*": first come, first served
		}
	}
	if owner != "" && slices.Contains(owners, owner) {
		return nil
	}
	return protocol.ForbiddenError{Message: fmt.Sprintf("App %s is not allowed for this owner", appID)}
}
