package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/moltzap/moltzap-go/generated/protocol"
	"github.com/moltzap/moltzap-go/runtime/wire"
)

// Subjects of the cluster (under the bus's namespace). See docs/cluster.md.
const (
	subjCluster    = "cluster" // every node: presence, app directory, heartbeats
	subjNodePrefix = "node."   // node.<id>: deliveries for that node's connections
	subjAppPrefix  = "app."    // app.<id>: TaskMaster callbacks, served by the app's node
)

// Kinds of cluster envelopes.
const (
	kindHello      byte = iota + 1 // cluster: a node (re)joined; answer with a full state
	kindState                      // cluster: a node's full state (agents, apps, seq)
	kindPresence                   // cluster: one agent's presence on the sender changed
	kindAppUp                      // cluster: an app's TaskMaster registered on the sender
	kindAppDown                    // cluster: apps the sender no longer serves
	kindHeartbeat                  // cluster: the sender is alive; carries its seq
	kindBye                        // cluster: the sender is leaving
	kindNotify                     // node: a notification frame for agents' connections
	kindConnNotify                 // node: a notification frame for one connection
	kindUsage                      // node: rate-limit usage of shared agents
	kindSyncReq                    // node: publish your full state (a gap was seen)
	kindTMCall                     // app: a TaskMaster callback (request/reply)
	kindCount
)

var kindNames = [kindCount]string{"unknown", "hello", "state", "presence", "app_up", "app_down",
	"heartbeat", "bye", "notify", "conn_notify", "usage", "sync_req", "tm_call"}

func kindName(k byte) string {
	if k < kindCount {
		return kindNames[k]
	}
	return kindNames[0]
}

// envelopeVersion is the first byte of every envelope; other versions are dropped.
const envelopeVersion = 1

// nodeIDPattern is what a node id may be (it is part of subjects and connection ids).
var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidNodeID reports whether id can name a node (1-64 letters, digits, '_' or '-').
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// nodeOfConn returns the node part of a connection id ("<node>.<uuid>"), or "".
func nodeOfConn(connID string) string {
	if i := strings.LastIndexByte(connID, '.'); i > 0 {
		return connID[:i]
	}
	return ""
}

// appSubject is the subject an app's TaskMaster callbacks are served on.
func appSubject(appID protocol.AppID) string {
	id := string(appID)
	if nodeIDPattern.MatchString(id) {
		return subjAppPrefix + id
	}
	return subjAppPrefix + "x" + fmt.Sprintf("%x", id)
}

// appendHeader starts an envelope: version, kind, send time (Unix ns), sender node.
func appendHeader(b []byte, kind byte, from string) []byte {
	b = append(b, envelopeVersion, kind)
	b = binary.BigEndian.AppendUint64(b, uint64(time.Now().UnixNano()))
	return appendStr(b, from)
}

// envelope is a decoded header and the body after it.
type envelope struct {
	kind   byte
	sentAt time.Time
	from   string
	body   []byte
}

var errBadEnvelope = errors.New("malformed cluster envelope")

func parseEnvelope(b []byte) (envelope, error) {
	if len(b) < 10 || b[0] != envelopeVersion {
		return envelope{}, errBadEnvelope
	}
	e := envelope{kind: b[1], sentAt: time.Unix(0, int64(binary.BigEndian.Uint64(b[2:10])))}
	from, rest, ok := readStr(b[10:])
	if !ok {
		return envelope{}, errBadEnvelope
	}
	e.from, e.body = from, rest
	return e, nil
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readStr(b []byte) (string, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return "", nil, false
	}
	return string(b[k : k+int(n)]), b[k+int(n):], true
}

func appendIDs[T ~string](b []byte, ids []T) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = appendStr(b, string(id))
	}
	return b
}

func readIDs[T ~string](b []byte) ([]T, []byte, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, false
	}
	b = b[k:]
	out := make([]T, 0, n)
	for range n {
		s, rest, ok := readStr(b)
		if !ok {
			return nil, nil, false
		}
		out, b = append(out, T(s)), rest
	}
	return out, b, true
}

// notifyBody is the body of a kindNotify envelope: deliver frame to the local connections
// of agents, gated by gate when set, after applying the subscription-set changes (opConv
// added for sub, removed for unsub) the notification implies.
type notifyBody struct {
	gate   protocol.ConversationID
	opConv protocol.ConversationID
	sub    []protocol.AgentID
	unsub  []protocol.AgentID
	agents []protocol.AgentID
	frame  []byte
}

func (n notifyBody) appendTo(b []byte) []byte {
	b = appendStr(b, string(n.gate))
	b = appendStr(b, string(n.opConv))
	b = appendIDs(b, n.sub)
	b = appendIDs(b, n.unsub)
	b = appendIDs(b, n.agents)
	return append(b, n.frame...)
}

func parseNotifyBody(b []byte) (notifyBody, error) {
	var n notifyBody
	var s string
	var ok bool
	if s, b, ok = readStr(b); !ok {
		return n, errBadEnvelope
	}
	n.gate = protocol.ConversationID(s)
	if s, b, ok = readStr(b); !ok {
		return n, errBadEnvelope
	}
	n.opConv = protocol.ConversationID(s)
	if n.sub, b, ok = readIDs[protocol.AgentID](b); !ok {
		return n, errBadEnvelope
	}
	if n.unsub, b, ok = readIDs[protocol.AgentID](b); !ok {
		return n, errBadEnvelope
	}
	if n.agents, b, ok = readIDs[protocol.AgentID](b); !ok {
		return n, errBadEnvelope
	}
	n.frame = b
	return n, nil
}

// ctlBody is the JSON body of the cluster control envelopes (presence, apps, state,
// heartbeat) and of kindUsage.
type ctlBody struct {
	Seq    uint64                                       `json:"seq,omitempty"`
	Agent  protocol.AgentID                             `json:"agent,omitempty"`
	Status protocol.PresenceStatus                      `json:"status,omitempty"`
	Agents map[protocol.AgentID]protocol.PresenceStatus `json:"agents,omitempty"`
	Apps   []appAnnounce                                `json:"apps,omitempty"`
	AppIDs []protocol.AppID                             `json:"appIds,omitempty"`
	// Req and Msg are rate-limit usage per agent (requests, messages/send) (kindUsage).
	Req map[protocol.AgentID]int `json:"req,omitempty"`
	Msg map[protocol.AgentID]int `json:"msg,omitempty"`
}

// appAnnounce tells that an app's TaskMaster is connection ConnID (on the sender).
type appAnnounce struct {
	AppID    protocol.AppID       `json:"appId"`
	ConnID   string               `json:"connId"`
	Manifest protocol.AppManifest `json:"manifest"`
}

// tmCall is the request body of a TaskMaster callback routed to the app's node.
type tmCall struct {
	AppID     protocol.AppID  `json:"appId"`
	ConnID    string          `json:"connId"` // the TaskMaster connection the caller bound
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params,omitempty"`
	TimeoutMs int64           `json:"timeoutMs"`
}

// tmReply is the answer to a tmCall: exactly one of its fields is set.
type tmReply struct {
	Result      json.RawMessage `json:"result,omitempty"`
	Error       *wire.Error     `json:"error,omitempty"`
	Timeout     bool            `json:"timeout,omitempty"`
	Unavailable string          `json:"unavailable,omitempty"`
}
