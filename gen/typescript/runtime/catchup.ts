// Catch-up by seq across reconnections (and across the nodes of a cluster): the generated
// client feeds every live message through a SeqCatchUp, which delivers each message once and,
// after a reconnection, recovers what was missed with messages/list from the settled seq (the
// highest at or below which every seq was seen or listed) before delivering anything newer,
// so that every conversation reads in seq order. It is model-independent: the client passes
// the list call and the delivery.

import { ConnectionClosedError } from "./errors.js";

/** SeqMessage is what the catch-up reads of a message. */
export interface SeqMessage {
  readonly id: string;
  readonly conversationId: string;
  /** The per-conversation sequence number, a decimal string. */
  readonly seq: string;
}

/** SeqPage is one page of messages/list: ascending seq, and whether more follow. */
export interface SeqPage<M> {
  readonly messages: readonly M[];
  readonly hasMore: boolean;
}

/** CatchUpReport describes one catch-up run after a reconnection (a reconnection during a run makes another run follow it). */
export interface CatchUpReport {
  /** Messages recovered (missed while disconnected) and delivered by the run. */
  readonly recovered: number;
  /** The conversations whose catch-up failed, with the errors (empty when all went well). */
  readonly errors: readonly unknown[];
}

/** The number of message ids remembered per conversation for de-duplication. */
export const DedupWindow = 1000;

/**
 * MaxSettleLag bounds how far the settled seq may trail the highest seq seen: gaps left by
 * messages this agent is not shown (a TaskMaster forwarded them to others) would otherwise
 * hold it back for good. A catch-up from the settled seq lists what lies above it again;
 * those messages are within the de-duplication window, so none is delivered twice.
 */
export const MaxSettleLag = 256n;

interface Conv<T, M> {
  taskId: T;
  seq: bigint; // highest seq accepted, -1 when none
  settled: bigint; // highest seq at or below which every seq was seen or listed, -1 when none
  above: Set<bigint>; // seqs seen beyond settled
  cursor: bigint; // where the next catch-up starts: settled, unless frozen
  frozen: boolean; // the cursor waits for a catch-up (a gap may precede newer messages)
  floor: bigint; // highest seq a catch-up listed, -1 when none: at or below it = duplicate
  holding: boolean; // live messages wait in held for the catch-up
  held: { taskId: T; message: M }[];
  ids: Set<string>;
  order: string[]; // ids in insertion order, for the window
}

function seqOf(m: SeqMessage): bigint {
  try {
    return BigInt(m.seq);
  } catch {
    return -1n;
  }
}

/**
 * SeqCatchUp tracks, per conversation, the seqs seen. Live messages are de-duplicated (the
 * last DedupWindow ids, and every seq up to the highest a catch-up listed). From a
 * disconnection until its conversation has been caught up after the reconnection, a live
 * message is held; the catch-up pages messages/list from the settled seq before the
 * disconnection (every seq at or below it was seen or listed; a lower seq may still have been
 * in flight above it), then the held messages follow in seq order. Conversations first heard of
 * during the gap are caught up from their start. A catch-up refused by the server releases
 * the held messages (the cursor is kept for the next reconnection); one cut short by another
 * disconnection keeps them for the next run.
 */
export class SeqCatchUp<T, M extends SeqMessage> {
  private readonly convs = new Map<string, Conv<T, M>>();
  private gap = false;
  private gen = 0;
  private running = false;
  private again = false;

  constructor(
    private readonly list: (taskId: T, conversationId: M["conversationId"], sinceSeq: string) => Promise<SeqPage<M>>,
    private readonly deliver: (taskId: T, message: M) => void,
    private readonly report: (r: CatchUpReport) => void,
  ) {}

  /**
   * track makes a conversation known, so that a reconnection catches it up: from sinceSeq
   * (default "0": its whole history) or from its settled seq, when higher.
   */
  track(taskId: T, conversationId: M["conversationId"], sinceSeq = "0"): void {
    const c = this.conv(taskId, conversationId);
    const since = BigInt(sinceSeq);
    if (c.seq < since) c.seq = since;
    if (c.cursor < since) c.cursor = since;
  }

  /** live handles a messages/received notification. */
  live(taskId: T, message: M): void {
    const c = this.conv(taskId, message.conversationId);
    if (c.holding) {
      c.held.push({ taskId, message });
      return;
    }
    if (this.accept(c, message)) this.deliver(taskId, message);
  }

  /** disconnected holds every conversation until it is caught up. */
  disconnected(): void {
    this.gap = true;
    this.gen++;
    for (const c of this.convs.values()) {
      c.frozen = true;
      c.holding = true;
    }
  }

  /** reconnected starts a catch-up run (or another one after the run under way). */
  reconnected(): void {
    this.disconnected();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        this.report(await this.run());
      } while (this.again);
    } finally {
      this.running = false;
    }
  }

  private conv(taskId: T, id: string): Conv<T, M> {
    let c = this.convs.get(id);
    if (c === undefined) {
      c = { taskId, seq: -1n, settled: -1n, above: new Set(), cursor: 0n, frozen: this.gap, floor: -1n, holding: this.gap, held: [], ids: new Set(), order: [] };
      this.convs.set(id, c);
    }
    return c;
  }

  /** accept records m unless it is a duplicate (false). */
  private accept(c: Conv<T, M>, m: M): boolean {
    const seq = seqOf(m);
    if (c.floor >= 0n && seq >= 0n && seq <= c.floor) return false;
    if (c.ids.has(m.id)) return false;
    c.ids.add(m.id);
    c.order.push(m.id);
    if (c.order.length > DedupWindow) c.ids.delete(c.order.shift() ?? "");
    if (seq > c.seq) c.seq = seq;
    if (seq >= 0n) settle(c, seq);
    if (!c.frozen && c.settled > c.cursor) c.cursor = c.settled;
    return true;
  }

  private async run(): Promise<CatchUpReport> {
    const gen = this.gen;
    const errors: unknown[] = [];
    let recovered = 0;
    let lost = false;
    const done = new Set<string>();
    outer: for (;;) {
      const targets = [...this.convs].filter(([id, c]) => !done.has(id) && (c.holding || c.frozen));
      if (targets.length === 0) break;
      for (const [id, c] of targets) {
        done.add(id);
        try {
          recovered += await this.catchUp(id, c);
          this.release(c, gen, true);
        } catch (err) {
          errors.push(err);
          if (err instanceof ConnectionClosedError) {
            lost = true; // the next reconnection runs again
            break outer;
          }
        }
      }
    }
    if (!lost && gen === this.gen) {
      this.gap = false;
      for (const c of this.convs.values()) if (c.holding) this.release(c, gen, false);
    }
    return { recovered, errors };
  }

  /** catchUp pages one conversation forward from its cursor; it returns the count delivered. */
  private async catchUp(id: M["conversationId"], c: Conv<T, M>): Promise<number> {
    let since = c.cursor;
    let n = 0;
    for (;;) {
      const page = await this.list(c.taskId, id, since.toString());
      for (const m of page.messages) {
        if (this.accept(c, m)) {
          this.deliver(c.taskId, m);
          n++;
        }
        const seq = seqOf(m);
        if (seq > c.floor) c.floor = seq;
      }
      const last = page.messages[page.messages.length - 1];
      if (!page.hasMore || last === undefined) {
        // The listing is complete: messages/list returns every message visible to this
        // agent, so a seq up to the last listed that it did not return is not for it.
        if (c.floor >= 0n) settleTo(c, c.floor);
        return n;
      }
      const next = seqOf(last);
      if (next <= since) throw new Error(`messages/list did not advance past seq ${since}`);
      since = next;
    }
  }

  /** release delivers c's held messages in seq order, unless a disconnection renewed the hold. */
  private release(c: Conv<T, M>, gen: number, thaw: boolean): void {
    if (gen !== this.gen) return;
    if (thaw) {
      c.frozen = false;
      if (c.settled > c.cursor) c.cursor = c.settled;
    }
    const held = c.held.sort((a, b) => {
      const x = seqOf(a.message), y = seqOf(b.message);
      return x < y ? -1 : x > y ? 1 : 0;
    });
    c.held = [];
    c.holding = false;
    for (const h of held) if (this.accept(c, h.message)) this.deliver(h.taskId, h.message);
  }
}

/**
 * settle records seq v as seen and advances the settled seq. Across server nodes messages
 * arrive out of seq order, so a catch-up must start there, not after the highest seq seen,
 * or a message still in flight when the connection dropped would be skipped.
 */
function settle<T, M>(c: Conv<T, M>, v: bigint): void {
  if (c.settled < 0n) {
    c.settled = v; // nothing is known below the first seq seen
  } else if (v <= c.settled) {
    return;
  } else if (v === c.settled + 1n) {
    c.settled = v;
  } else {
    c.above.add(v);
  }
  if (c.seq - c.settled > MaxSettleLag) c.settled = c.seq - MaxSettleLag;
  advanceSettled(c);
}

/** settleTo marks every seq up to f as settled (a complete catch-up listing reached f). */
function settleTo<T, M>(c: Conv<T, M>, f: bigint): void {
  if (f > c.settled) c.settled = f;
  advanceSettled(c);
}

/** advanceSettled moves the settled seq over the seqs seen right above it and forgets the ones at or below it. */
function advanceSettled<T, M>(c: Conv<T, M>): void {
  while (c.above.delete(c.settled + 1n)) c.settled++;
  for (const v of c.above) if (v <= c.settled) c.above.delete(v);
}
