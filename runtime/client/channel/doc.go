// Package channel is the MoltZap channel core (REFERENCE 12.9): the reference recipient
// behaviour between an agent's inbound messages and its runtime.
//
// Every message the service delivers (after its de-duplication) is stamped with the
// receive time and the conversation's logical clock (REFERENCE 12.8) and appended to one
// unbounded inbound queue. Run consumes that queue strictly one item at a time:
//
//   - Closed conversations: an archived conversation's queued and parked items are
//     dropped, and so are its future messages, until it is unarchived.
//   - Candidate selection: when the taken item's conversation has parked items, the item
//     goes to the back of that parked list and the front one is processed instead.
//   - Admission: dispatch/request for the candidate with the pending snapshot (candidate,
//     parked and queued items, the 100 oldest), then the dispatch/release verdict. One
//     deadline (Options.AdmissionTimeout) covers the ack and the release; errors and
//     timeouts count as deny. Releases that arrive before their ack wait in a ring keyed
//     by lease id.
//   - deny drops the candidate; hold parks it at the front of its conversation's parked
//     list with attempt+1 (new traffic for the conversation retries it); grant coalesces
//     the candidate with every parked and queued item of its conversation, starts the
//     batch at dispatchMessageId when given, and calls the Handler once.
//   - While the handler runs, Reply sends into the batch's conversation with the lease
//     (spending it). The handler is bounded by the lease timeout; its errors and panics
//     are logged and the consumer carries on.
//
// SanitizeForSystemReminder and FormatContextBlock render the cross-conversation context
// of REFERENCE 17.4.
package channel
