// MoltZap Observatory page: a read-only live view of the network over the /observatory
// topic-channel WebSocket (docs/observatory.md). Plain JavaScript, no build step.
//
// Every frame is [topic, event, payload]. The page authenticates with its first frame,
// subscribes "network", and, as the operator selects them, "task:<id>",
// "conversation:<id>" and "dispatch:<id>". A snapshot follows every subscribe; the page
// replaces its state of that topic with it, so a reconnect (with backoff) that
// re-authenticates and re-subscribes every current topic is the whole recovery.
//
// All data is written with textContent: nothing from the network is ever parsed as HTML.
"use strict";

(() => {
  const TOKEN_KEY = "moltzap.observatory.token";
  const BACKOFF_MIN_MS = 250;
  const BACKOFF_MAX_MS = 5000;
  const MAX_MESSAGES = 500;

  const $ = (id) => document.getElementById(id);

  // view is what the page shows; each part is replaced by its topic's snapshot.
  const view = {
    agents: new Map(), // agentId -> AgentPresence (online agents only)
    tasks: new Map(), // taskId -> Task
    taskId: null, // the selected task
    task: null, // {task: Task|null, participants: Set<AgentId>, conversations: Map<id, Conversation>}
    convParticipants: new Map(), // conversationId -> Set<AgentId>, from participants:* events
    convId: null, // the selected conversation
    conv: null, // {conversation: Conversation|null, taskId, messages: Map<id, ObservedMessage>}
    leases: null, // Map<leaseId, LeaseRecord>, null until dispatch:snapshot
  };

  // names remembers every agent name seen, so messages of agents gone offline keep a name.
  const names = new Map();
  let namesVersion = 0;

  // snapshots counts the snapshots received per topic (shown to tests through
  // window.__observatory, to tell a fresh snapshot after a reconnect from the old state).
  const snapshots = {};

  // conn is the socket and its reconnection state.
  const conn = {
    socket: null,
    token: "",
    authed: false,
    running: false, // false: signed out or token refused; no reconnect
    everLive: false,
    backoff: BACKOFF_MIN_MS,
    timer: 0,
  };

  // ---- connection ------------------------------------------------------------------

  // socketURL is the WebSocket beside the page: the page's directory without its slash
  // (/observatory/ -> ws://host/observatory), so a reverse-proxy prefix is kept.
  function socketURL() {
    const u = new URL(".", window.location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.pathname = u.pathname.replace(/\/+$/, "") || "/observatory";
    u.search = "";
    u.hash = "";
    return u.toString();
  }

  // topics are the topics the page should be subscribed to, given the selection.
  function topics() {
    const t = ["network"];
    if (view.taskId) t.push("task:" + view.taskId);
    if (view.convId) t.push("conversation:" + view.convId, "dispatch:" + view.convId);
    return t;
  }

  function send(topic, event, payload) {
    const ws = conn.socket;
    if (!ws || ws.readyState !== WebSocket.OPEN || !conn.authed) return false;
    ws.send(JSON.stringify([topic, event, payload]));
    return true;
  }

  function subscribe(topic) {
    send(topic, "subscribe", { id: topic });
  }

  function unsubscribe(topic) {
    send(topic, "unsubscribe", {});
  }

  function start(token) {
    conn.token = token;
    conn.running = true;
    conn.everLive = false;
    conn.backoff = BACKOFF_MIN_MS;
    setStatus("connecting");
    connect();
  }

  function stop() {
    conn.running = false;
    clearTimeout(conn.timer);
    const ws = conn.socket;
    conn.socket = null;
    conn.authed = false;
    if (ws) ws.close(1000, "signed out");
  }

  function connect() {
    clearTimeout(conn.timer);
    if (!conn.running) return;
    let ws;
    try {
      ws = new WebSocket(socketURL());
    } catch (e) {
      console.warn("observatory: cannot open the socket", e);
      scheduleReconnect();
      return;
    }
    conn.socket = ws;
    conn.authed = false;
    ws.onopen = () => {
      if (conn.socket !== ws) return;
      ws.send(JSON.stringify(["observatory", "auth", { token: conn.token }]));
    };
    ws.onmessage = (ev) => {
      if (conn.socket !== ws) return;
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        console.warn("observatory: a frame that is not JSON", ev.data);
        return;
      }
      if (!Array.isArray(frame) || frame.length !== 3) return;
      handleFrame(frame[0], frame[1], frame[2]);
    };
    ws.onclose = () => {
      if (conn.socket !== ws) return;
      conn.socket = null;
      conn.authed = false;
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (!conn.running) return;
    setStatus(conn.everLive ? "reconnecting" : "connecting");
    clearTimeout(conn.timer);
    conn.timer = setTimeout(connect, conn.backoff);
    conn.backoff = Math.min(conn.backoff * 2, BACKOFF_MAX_MS);
  }

  function onAuthenticated() {
    conn.authed = true;
    conn.everLive = true;
    conn.backoff = BACKOFF_MIN_MS;
    showApp(true);
    for (const t of topics()) subscribe(t);
    setStatus("live");
  }

  function onTokenRefused() {
    stop();
    sessionStorage.removeItem(TOKEN_KEY);
    setStatus("unauthorized");
    showApp(false);
    showLoginError("The server refused this token.");
  }

  // ---- frames ----------------------------------------------------------------------

  function handleFrame(topic, event, payload) {
    if (event === "subscribed" || event === "unsubscribed") return;
    if (topic === "observatory") {
      if (event === "authenticated") onAuthenticated();
      else if (event === "error" && payload && payload.code === "UNAUTHORIZED") onTokenRefused();
      return;
    }
    if (event.endsWith(":snapshot")) snapshots[topic] = (snapshots[topic] || 0) + 1;
    if (event === "error") {
      if (payload && payload.code === "UNAUTHORIZED" && !conn.authed) return;
      console.warn("observatory: error on", topic, payload);
      return;
    }
    if (topic === "network") return onNetwork(event, payload || {});
    if (view.taskId && topic === "task:" + view.taskId) return onTask(event, payload || {});
    if (view.convId && topic === "conversation:" + view.convId) return onConversation(event, payload || {});
    if (view.convId && topic === "dispatch:" + view.convId) return onDispatch(event, payload || {});
    // A frame of a topic left behind by a change of selection: dropped.
  }

  // rememberAgent records an agent's name; a new or changed name re-renders every list
  // that shows names (namesVersion is part of every element's signature).
  function rememberAgent(p) {
    if (!p || !p.agentId || !p.name || names.get(p.agentId) === p.name) return;
    names.set(p.agentId, p.name);
    namesVersion++;
    dirty("tasks", "task", "messages", "leases");
  }

  function putAgent(p) {
    if (!p || !p.agentId) return;
    rememberAgent(p);
    if (p.status === "offline" || p.connections === 0) view.agents.delete(p.agentId);
    else view.agents.set(p.agentId, p);
  }

  function putTask(t) {
    if (!t || !t.id) return;
    view.tasks.set(t.id, t);
    if (view.task && view.task.task && view.task.task.id === t.id) view.task.task = t;
    dirty("tasks", "task");
  }

  function failTask(taskId) {
    if (!taskId) return;
    const mark = (t) => ({ ...t, status: "failed" });
    if (view.tasks.has(taskId)) view.tasks.set(taskId, mark(view.tasks.get(taskId)));
    if (view.task && view.task.task && view.task.task.id === taskId) view.task.task = mark(view.task.task);
    dirty("tasks", "task");
  }

  function onNetwork(event, p) {
    switch (event) {
      case "network:snapshot":
        view.agents = new Map();
        for (const a of p.agents || []) putAgent(a);
        view.tasks = new Map();
        for (const t of p.tasks || []) if (t && t.id) view.tasks.set(t.id, t);
        dirty("agents", "tasks", "task", "messages", "leases");
        return;
      case "agent:connected":
      case "agent:disconnected":
        putAgent(p);
        dirty("agents", "task");
        return;
      case "presence:changed": {
        const a = view.agents.get(p.agentId);
        if (p.status === "offline") view.agents.delete(p.agentId);
        else if (a) view.agents.set(p.agentId, { ...a, status: p.status });
        dirty("agents", "task");
        return;
      }
      case "task:created":
      case "task:closed":
        putTask(p.task);
        return;
      case "task:failed":
        failTask(p.taskId);
        return;
    }
  }

  function onTask(event, p) {
    switch (event) {
      case "task:snapshot": {
        const conversations = new Map();
        for (const c of p.conversations || []) if (c && c.id) conversations.set(c.id, c);
        view.task = { task: p.task || null, participants: new Set(p.participants || []), conversations };
        view.convParticipants = new Map();
        if (p.task && view.tasks.has(p.task.id)) view.tasks.set(p.task.id, p.task);
        dirty("task", "tasks");
        return;
      }
      case "task:created":
      case "task:closed":
        putTask(p.task);
        return;
      case "task:failed":
        failTask(p.taskId);
        return;
    }
    if (!view.task) return;
    switch (event) {
      case "conversation:created":
        if (p.conversation && p.conversation.id) view.task.conversations.set(p.conversation.id, p.conversation);
        break;
      case "conversation:archived":
      case "conversation:unarchived": {
        const c = view.task.conversations.get(p.conversationId);
        if (!c) break;
        const next = { ...c };
        if (event === "conversation:archived") next.archivedAt = next.archivedAt || new Date().toISOString();
        else delete next.archivedAt;
        view.task.conversations.set(c.id, next);
        if (view.conv && view.conv.conversation && view.conv.conversation.id === c.id) view.conv.conversation = next;
        break;
      }
      case "participants:added": {
        const set = view.convParticipants.get(p.conversationId) || new Set();
        for (const id of p.agentIds || []) {
          set.add(id);
          view.task.participants.add(id);
        }
        view.convParticipants.set(p.conversationId, set);
        break;
      }
      case "participants:removed": {
        const set = view.convParticipants.get(p.conversationId);
        if (set) set.delete(p.agentId);
        break;
      }
      default:
        return;
    }
    dirty("task", "messages");
  }

  function onConversation(event, p) {
    switch (event) {
      case "conversation:snapshot": {
        const messages = new Map();
        for (const m of p.messages || []) if (m && m.message && m.message.id) messages.set(m.message.id, m);
        view.conv = { conversation: p.conversation || null, taskId: p.taskId || null, messages };
        dirty("messages");
        return;
      }
      case "message:received":
      case "message:blocked":
        if (!view.conv || !p.message || !p.message.id) return;
        view.conv.messages.set(p.message.id, p);
        if (view.conv.messages.size > MAX_MESSAGES) {
          const oldest = sortedMessages()[0];
          if (oldest) view.conv.messages.delete(oldest.message.id);
        }
        dirty("messages");
        return;
    }
  }

  function onDispatch(event, p) {
    if (event === "dispatch:snapshot") {
      view.leases = new Map();
      for (const l of p.leases || []) if (l && l.leaseId) view.leases.set(l.leaseId, l);
      dirty("leases");
      return;
    }
    if (event.startsWith("lease:") && p.lease && p.lease.leaseId) {
      if (!view.leases) view.leases = new Map();
      view.leases.set(p.lease.leaseId, p.lease);
      dirty("leases");
    }
  }

  // ---- selection -------------------------------------------------------------------

  function selectTask(id) {
    if (id === view.taskId) return;
    selectConversation(null);
    if (view.taskId) unsubscribe("task:" + view.taskId);
    view.taskId = id;
    view.task = null;
    view.convParticipants = new Map();
    if (id) subscribe("task:" + id);
    dirty("tasks", "task");
  }

  function selectConversation(id) {
    if (id === view.convId) return;
    if (view.convId) {
      unsubscribe("conversation:" + view.convId);
      unsubscribe("dispatch:" + view.convId);
    }
    view.convId = id;
    view.conv = null;
    view.leases = null;
    if (id) {
      subscribe("conversation:" + id);
      subscribe("dispatch:" + id);
    }
    dirty("task", "messages", "leases");
  }

  // ---- rendering -------------------------------------------------------------------

  const pending = new Set();
  let scheduled = false;

  // dirty marks parts of the page for the next render, batched to one per frame (with a
  // timer as well, since hidden tabs get no animation frames).
  function dirty(...parts) {
    for (const p of parts) pending.add(p);
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(flush);
    setTimeout(flush, 100);
  }

  function flush() {
    if (!scheduled) return;
    scheduled = false;
    const parts = new Set(pending);
    pending.clear();
    if (parts.has("agents")) renderAgents();
    if (parts.has("tasks")) renderTasks();
    if (parts.has("task")) renderTask();
    if (parts.has("messages")) renderMessages();
    if (parts.has("leases")) renderLeases();
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k.startsWith("data-") || k === "title" || k === "type" || k === "aria-pressed" || k === "datetime") e.setAttribute(k, String(v));
      else e[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // reconcile makes container's children the elements of items, in order, building an
  // element only for an item whose signature changed since the last render.
  const caches = new WeakMap();
  function reconcile(container, items, key, build) {
    let cache = caches.get(container);
    if (!cache) {
      cache = new Map();
      caches.set(container, cache);
    }
    const keep = new Set();
    items.forEach((item, i) => {
      const k = key(item);
      const sig = namesVersion + JSON.stringify(item);
      let hit = cache.get(k);
      if (!hit || hit.sig !== sig) {
        const fresh = build(item);
        if (hit && hit.el.parentNode === container) container.replaceChild(fresh, hit.el);
        hit = { sig, el: fresh };
        cache.set(k, hit);
      }
      keep.add(k);
      const at = container.children[i];
      if (at !== hit.el) container.insertBefore(hit.el, at || null);
    });
    for (const [k, hit] of cache) {
      if (!keep.has(k)) {
        hit.el.remove();
        cache.delete(k);
      }
    }
  }

  function nameOf(agentId) {
    if (!agentId) return "?";
    const a = view.agents.get(agentId);
    return (a && a.name) || names.get(agentId) || short(agentId);
  }

  function short(id) {
    return String(id || "").slice(-8);
  }

  function pad(n) {
    return String(n).padStart(2, "0");
  }

  function clock(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const today = new Date();
    const sameDay = d.toDateString() === today.toDateString();
    return sameDay ? clock(iso) : d.toISOString().slice(0, 10) + " " + clock(iso);
  }

  function timeEl(iso, text) {
    return el("time", { datetime: iso || undefined, title: iso || undefined }, text);
  }

  function renderAgents() {
    const rows = [...view.agents.values()].sort((a, b) => String(a.name).localeCompare(String(b.name)) || String(a.agentId).localeCompare(String(b.agentId)));
    reconcile($("agents").tBodies[0], rows, (a) => a.agentId, (a) =>
      el("tr", { "data-agent-id": a.agentId, "data-status": a.status, title: a.agentId },
        el("td", { class: "name" }, a.name || short(a.agentId)),
        el("td", { class: "status" }, el("span", { class: "badge badge-" + a.status }, a.status)),
        el("td", { class: "connections num" }, a.connections),
        el("td", { class: "since" }, timeEl(a.connectedAt, when(a.connectedAt)))));
    $("agents-count").textContent = String(rows.length);
    $("agents-empty").hidden = rows.length > 0;
    $("agents").hidden = rows.length === 0;
  }

  function renderTasks() {
    const list = [...view.tasks.values()].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    reconcile($("tasks"), list, (t) => t.id, (t) => {
      const btn = el("button", { type: "button", "data-task-id": t.id, "data-status": t.status, title: t.id },
        el("span", { class: "id" }, short(t.id)),
        el("span", { class: "badge badge-" + t.status }, t.status),
        el("span", { class: "who" }, "by " + nameOf(t.initiatorAgentId)),
        timeEl(t.createdAt, when(t.createdAt)));
      btn.addEventListener("click", () => selectTask(t.id));
      return el("li", {}, btn);
    });
    for (const b of $("tasks").querySelectorAll("button[data-task-id]")) {
      const on = b.dataset.taskId === view.taskId;
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    $("tasks-count").textContent = String(list.length);
    $("tasks-empty").hidden = list.length > 0;
  }

  function info(dl, rows) {
    dl.replaceChildren();
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === "") continue;
      dl.append(el("dt", {}, k), el("dd", {}, v));
    }
  }

  function renderTask() {
    const none = $("task-none");
    const detail = $("task-detail");
    if (!view.taskId) {
      none.textContent = "Select a task.";
      none.hidden = false;
      detail.hidden = true;
      return;
    }
    if (!view.task) {
      none.textContent = "Loading task " + short(view.taskId) + "…";
      none.hidden = false;
      detail.hidden = true;
      return;
    }
    if (!view.task.task) {
      none.textContent = "Unknown task " + view.taskId + ".";
      none.hidden = false;
      detail.hidden = true;
      return;
    }
    none.hidden = true;
    detail.hidden = false;
    const t = view.task.task;
    detail.dataset.taskId = t.id;
    info($("task-info"), [
      ["id", t.id],
      ["status", el("span", { class: "badge badge-" + t.status, "data-task-status": t.status }, t.status)],
      ["app", t.appId],
      ["initiator", nameOf(t.initiatorAgentId)],
      ["created", timeEl(t.createdAt, when(t.createdAt))],
      ["started", t.startedAt ? timeEl(t.startedAt, when(t.startedAt)) : null],
      ["ended", t.endedAt ? timeEl(t.endedAt, when(t.endedAt)) : null],
    ]);
    const people = [...view.task.participants].map((id) => ({ id, name: nameOf(id), online: view.agents.has(id) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    reconcile($("participants"), people, (p) => p.id, (p) =>
      el("li", { "data-agent-id": p.id, "data-online": p.online ? "true" : "false", title: p.id },
        p.name, p.online ? el("span", { class: "badge badge-online" }, "online") : null));
    const convs = [...view.task.conversations.values()].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    reconcile($("conversations"), convs.map((c) => ({ c, extra: [...(view.convParticipants.get(c.id) || [])].map(nameOf).sort() })), (x) => x.c.id, ({ c, extra }) => {
      const btn = el("button", { type: "button", "data-conversation-id": c.id, "data-archived": c.archivedAt ? "true" : "false", title: c.id },
        el("span", { class: "name" }, c.name || "(unnamed)"),
        el("span", { class: "badge" }, c.type),
        c.archivedAt ? el("span", { class: "badge badge-archived" }, "archived") : null,
        extra.length ? el("span", { class: "who" }, "+ " + extra.join(", ")) : null,
        el("span", { class: "id" }, short(c.id)));
      btn.addEventListener("click", () => selectConversation(c.id));
      return el("li", {}, btn);
    });
    for (const b of $("conversations").querySelectorAll("button[data-conversation-id]")) {
      const on = b.dataset.conversationId === view.convId;
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    $("conversations-empty").hidden = convs.length > 0;
  }

  // seqCompare orders decimal sequence strings (they exceed 2^53) numerically.
  function seqCompare(a, b) {
    a = String(a || "0");
    b = String(b || "0");
    return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  }

  function sortedMessages() {
    if (!view.conv) return [];
    return [...view.conv.messages.values()].sort((x, y) => seqCompare(x.message.seq, y.message.seq) ||
      String(x.message.createdAt).localeCompare(String(y.message.createdAt)));
  }

  function partText(p) {
    if (!p) return "";
    switch (p.type) {
      case "text":
        return p.text;
      case "image":
        return "[image" + (p.altText ? ": " + p.altText : "") + "] " + (p.url || "");
      case "file":
        return "[file: " + (p.name || "") + "] " + (p.url || "");
      default:
        return "[" + String(p.type) + "]";
    }
  }

  function renderMessages() {
    const none = $("conversation-none");
    const detail = $("conversation-detail");
    if (!view.convId) {
      none.textContent = "Select a conversation.";
      none.hidden = false;
      detail.hidden = true;
      return;
    }
    none.hidden = true;
    detail.hidden = false;
    detail.dataset.conversationId = view.convId;
    const c = (view.conv && view.conv.conversation) || (view.task && view.task.conversations.get(view.convId)) || null;
    const infoLine = $("conversation-info");
    if (!view.conv) infoLine.textContent = "Loading conversation " + short(view.convId) + "…";
    else if (!c) infoLine.textContent = "Unknown conversation " + view.convId + ".";
    else infoLine.textContent = (c.name || "(unnamed)") + " · " + c.type + (c.archivedAt ? " · archived" : "") + " · " + c.id;
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const list = sortedMessages();
    reconcile(box, list, (m) => m.message.id, (m) => {
      const msg = m.message;
      const verdict = (m.decision && m.decision.verdict) || "forward";
      const li = el("li", {
        "data-message-id": msg.id,
        "data-seq": msg.seq,
        "data-verdict": verdict,
        "data-sender-id": msg.senderId,
        class: "message verdict-" + verdict,
      },
      el("span", { class: "time" }, timeEl(msg.createdAt, clock(msg.createdAt))),
      el("span", { class: "sender", title: msg.senderId }, nameOf(msg.senderId)),
      el("span", { class: "text" }, (msg.parts || []).map(partText).join("\n")));
      if (verdict === "block") {
        li.append(el("span", { class: "reason" }, "blocked" + (m.decision.reason ? ": " + m.decision.reason : "")));
      } else if (verdict === "pending") {
        li.append(el("span", { class: "reason" }, "pending"));
      }
      return li;
    });
    $("messages-empty").hidden = list.length > 0 || !view.conv;
    if (atBottom) box.scrollTop = box.scrollHeight;
  }

  function verdictText(v) {
    if (!v) return "";
    return String(v.decision || "") + (v.reason ? ": " + v.reason : "");
  }

  function renderLeases() {
    if (!view.convId) return;
    const list = view.leases ? [...view.leases.values()].sort((a, b) => String(a.mintedAt).localeCompare(String(b.mintedAt))) : [];
    reconcile($("leases").tBodies[0], list, (l) => l.leaseId, (l) =>
      el("tr", { "data-lease-id": l.leaseId, "data-state": l.state, title: "dispatch " + l.dispatchId },
        el("td", { class: "name" }, nameOf(l.recipientAgentId)),
        el("td", {}, el("span", { class: "badge badge-" + String(l.state).toLowerCase() }, l.state)),
        el("td", {}, verdictText(l.verdict)),
        el("td", {}, timeEl(l.mintedAt, clock(l.mintedAt))),
        el("td", { class: "id" }, short(l.leaseId))));
    $("leases-empty").hidden = list.length > 0;
    $("leases").hidden = list.length === 0;
  }

  // ---- page ------------------------------------------------------------------------

  function setStatus(state) {
    const s = $("status");
    s.textContent = state.replace("-", " ");
    s.dataset.state = state;
    document.body.dataset.connection = state;
  }

  function showApp(on) {
    $("app").hidden = !on;
    $("login").hidden = on;
    $("signout").hidden = !conn.running;
    if (on) $("login-error").hidden = true;
  }

  function showLoginError(text) {
    const e = $("login-error");
    e.textContent = text;
    e.hidden = false;
    $("token").focus();
  }

  function resetView() {
    view.agents = new Map();
    view.tasks = new Map();
    view.taskId = null;
    view.task = null;
    view.convParticipants = new Map();
    view.convId = null;
    view.conv = null;
    view.leases = null;
    dirty("agents", "tasks", "task", "messages", "leases");
  }

  function init() {
    $("login").addEventListener("submit", (ev) => {
      ev.preventDefault();
      const input = $("token");
      const token = input.value.trim();
      if (!token) return;
      input.value = "";
      sessionStorage.setItem(TOKEN_KEY, token);
      $("login-error").hidden = true;
      resetView();
      start(token);
      $("signout").hidden = false;
    });
    $("signout").addEventListener("click", () => {
      stop();
      sessionStorage.removeItem(TOKEN_KEY);
      resetView();
      showApp(false);
      setStatus("signed-out");
      $("signout").hidden = true;
    });
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      start(saved);
      $("signout").hidden = false;
    } else {
      setStatus("signed-out");
    }
    dirty("agents", "tasks", "task", "messages", "leases");
  }

  // A handle for debugging and for the browser test; it exposes no token.
  window.__observatory = Object.freeze({
    get socket() { return conn.socket; },
    get status() { return $("status").dataset.state; },
    topics,
    view,
    snapshots,
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
