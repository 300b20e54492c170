// The chat page: login, one-to-one and group chats over a websocket to one
// of the gateways, ticks for sent / delivered / read, deduplication by
// message ID, resync from the last sequence of each conversation after a
// reconnect, and failover to the next gateway when the socket drops.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const S = {
    user: "", token: "", device: "",
    gateways: (params.get("gateways") || location.origin).split(",").map((s) => s.trim()).filter(Boolean),
    gi: 0, ws: null, connected: false, host: "", retry: 0,
    after: {},        // conv -> highest sequence up to which every message arrived
    pending: {},      // conv -> Set of sequences received above after[conv]
    seen: new Set(),  // IDs of messages shown (deduplication)
    chats: new Map(), // chat key ("u:peer" or "g:group") -> {title, msgs: [], unread}
    mine: new Map(),  // ID of a message this user sent -> {state, delivered: Set, read: Set, chat}
    outbox: new Map(),// ID -> frame sent but not yet confirmed by the server
    current: "",
    log: [],          // what the page received, for tests: {id, from, chat, text}
  };
  window.chat = S;

  function newID() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  // The gateway in use: API calls follow the socket to the other gateway
  // after a failover (the gateways allow each other's origin).
  function cur() { return S.gateways[S.gi % S.gateways.length]; }
  function mediaURL(u) { return u && u.startsWith("/") ? cur() + u : u; }

  function api(method, path, body, raw) {
    const opts = { method, headers: {} };
    if (S.token) opts.headers["Authorization"] = "Bearer " + S.token;
    if (raw) { opts.body = raw; } else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(cur() + path, opts).then(async (r) => {
      const j = r.status === 204 ? {} : await r.json();
      if (!r.ok) throw new Error(j.message || r.statusText);
      return j;
    });
  }

  function chat(key, title) {
    let c = S.chats.get(key);
    if (!c) {
      c = { title: title || key.slice(2), msgs: [], unread: 0 };
      S.chats.set(key, c);
      renderChats();
    }
    return c;
  }

  // ---- connection ---------------------------------------------------------

  function connect() {
    const base = S.gateways[S.gi % S.gateways.length];
    const url = base.replace(/^http/, "ws") + "/ws?token=" + encodeURIComponent(S.token);
    setStatus("connecting", "connecting to " + base + "…");
    const ws = new WebSocket(url);
    S.ws = ws;
    ws.onmessage = (ev) => onFrame(JSON.parse(ev.data));
    ws.onclose = () => {
      if (S.ws !== ws) return;
      S.connected = false;
      S.gi++; // fail over to the next gateway
      S.retry = Math.min(S.retry + 1, 5);
      setStatus("disconnected", "reconnecting…");
      setTimeout(connect, 200 * S.retry);
    };
  }

  function send(frame) {
    if (S.connected && S.ws.readyState === WebSocket.OPEN) S.ws.send(JSON.stringify(frame));
  }

  function setStatus(state, text) {
    const el = $("status");
    el.dataset.state = state;
    el.dataset.host = S.host;
    el.textContent = text;
  }

  function received(conv, seq) {
    const p = S.pending[conv] || (S.pending[conv] = new Set());
    p.add(seq);
    let a = S.after[conv] || 0;
    while (p.has(a + 1)) { p.delete(a + 1); a++; }
    S.after[conv] = a;
  }

  function onFrame(f) {
    switch (f.type) {
      case "hello":
        S.connected = true; S.retry = 0; S.host = f.host;
        setStatus("online", "connected to " + f.host);
        send({ type: "resync", after: S.after });
        for (const fr of S.outbox.values()) send(fr); // same IDs: the recipient drops duplicates
        break;
      case "synced":
        if (f.more) send({ type: "resync", after: S.after });
        break;
      case "sent": {
        S.outbox.delete(f.id);
        const m = S.mine.get(f.id);
        if (m && m.state === "pending") { m.state = "sent"; renderTicks(f.id); }
        if (m && m.msg && f.at) m.msg.at = f.at; // server time orders the chat
        break;
      }
      case "msg": onMessage(f); break;
      case "error":
        $("error").textContent = f.code + ": " + f.message;
        $("error").dataset.code = f.code;
        if (f.id) { S.outbox.delete(f.id); const m = S.mine.get(f.id); if (m) { m.state = "failed"; renderTicks(f.id); } }
        break;
    }
  }

  function onMessage(f) {
    received(f.conv, f.seq);
    const content = f.kind === "text" || f.kind === "media";
    // Acknowledge every copy (it leaves the inbox); content gets a delivered receipt.
    send(content ? { type: "ack", conv: f.conv, seq: f.seq, id: f.id, from: f.from } : { type: "ack", conv: f.conv, seq: f.seq });
    if (S.seen.has(f.id)) return;
    S.seen.add(f.id);
    if (!content) { receipt(f); return; }
    const key = f.group ? "g:" + f.group : "u:" + f.from;
    const c = chat(key);
    const m = { id: f.id, from: f.from, text: f.text, media: f.media, at: f.at, conv: f.conv, mine: false };
    // Keep the chat in server-time order: after a failover, a resynced older
    // message may arrive after a newer pushed one.
    let i = c.msgs.length;
    while (i > 0 && c.msgs[i - 1].at > m.at) i--;
    c.msgs.splice(i, 0, m);
    S.log.push({ id: f.id, from: f.from, chat: key, text: f.text });
    if (key === S.current && !document.hidden) markRead(m); else { c.unread++; renderChats(); }
    if (key === S.current) { if (i === c.msgs.length - 1) renderMessage(m); else renderAll(c); }
  }

  function receipt(f) {
    const m = S.mine.get(f.ref);
    if (!m) return;
    (f.kind === "read" ? m.read : m.delivered).add(f.from);
    if (f.kind === "read") m.delivered.add(f.from);
    const members = m.members || 1;
    if (m.read.size >= members) m.state = "read";
    else if (m.delivered.size >= members) m.state = "delivered";
    renderTicks(f.ref);
  }

  function markRead(m) {
    if (m.mine || m.readSent) return;
    m.readSent = true;
    send({ type: "read", conv: m.conv, id: m.id, from: m.from });
  }

  // ---- actions ------------------------------------------------------------

  function sendMessage(text, media) {
    if (!S.current) return;
    const id = newID();
    const frame = { type: "send", id };
    if (S.current.startsWith("g:")) frame.group = S.current.slice(2); else frame.to = S.current.slice(2);
    if (text) frame.text = text;
    if (media) frame.media = media.hash;
    const c = chat(S.current);
    const m = { id, from: S.user, text, media: media && { url: media.url, type: media.type }, at: Date.now(), mine: true };
    c.msgs.push(m);
    S.mine.set(id, { state: "pending", delivered: new Set(), read: new Set(), chat: S.current, members: c.members ? c.members - 1 : 1, msg: m });
    S.outbox.set(id, frame);
    send(frame);
    renderMessage(m);
    return id;
  }

  function open(key) {
    S.current = key;
    const c = chat(key);
    c.unread = 0;
    $("title").textContent = key.startsWith("g:") ? "group " + c.title : c.title;
    $("presence").textContent = "";
    for (const el of [$("text"), $("file"), $("send")]) el.disabled = false;
    renderAll(c);
    c.msgs.forEach((m) => { if (!m.mine) markRead(m); });
    renderChats();
    if (key.startsWith("u:")) {
      api("GET", "/users/" + encodeURIComponent(key.slice(2)) + "/presence").then((p) => {
        $("presence").textContent = p.online ? "online" : p.last_seen ? "last seen " + new Date(p.last_seen).toLocaleString() : "";
      }).catch(() => {});
    }
  }

  // ---- rendering ----------------------------------------------------------

  function renderChats() {
    const ul = $("chats");
    ul.innerHTML = "";
    for (const [key, c] of S.chats) {
      const li = document.createElement("li");
      li.dataset.chat = key;
      li.textContent = (key.startsWith("g:") ? "# " : "") + c.title;
      if (c.unread) { const u = document.createElement("span"); u.className = "unread"; u.textContent = c.unread; li.append(u); }
      if (key === S.current) li.className = "active";
      li.onclick = () => open(key);
      ul.append(li);
    }
  }

  function renderAll(c) {
    $("messages").innerHTML = "";
    c.msgs.forEach(renderMessage);
  }

  const tickText = { pending: "🕓", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };

  function renderMessage(m) {
    const div = document.createElement("div");
    div.className = "msg " + (m.mine ? "mine" : "theirs");
    div.dataset.id = m.id;
    if (!m.mine && S.current.startsWith("g:")) {
      const from = document.createElement("div"); from.className = "from"; from.textContent = m.from; div.append(from);
    }
    if (m.media) {
      if ((m.media.type || "").startsWith("image/")) { const img = document.createElement("img"); img.src = mediaURL(m.media.url); div.append(img); }
      else { const a = document.createElement("a"); a.href = mediaURL(m.media.url); a.textContent = "media"; div.append(a); }
    }
    const t = document.createElement("span"); t.className = "text"; t.textContent = m.text || ""; div.append(t);
    if (m.mine) { const k = document.createElement("span"); k.className = "ticks"; div.append(k); }
    $("messages").append(div);
    div.scrollIntoView();
    if (m.mine) renderTicks(m.id);
  }

  function renderTicks(id) {
    const st = S.mine.get(id);
    const el = document.querySelector('.msg[data-id="' + id + '"] .ticks');
    if (!st || !el) return;
    el.dataset.state = st.state;
    el.textContent = tickText[st.state];
  }

  // ---- wiring -------------------------------------------------------------

  $("login").onsubmit = (e) => {
    e.preventDefault();
    api("POST", "/login", { user: $("user").value, password: $("password").value }).then((r) => {
      S.user = r.user; S.token = r.token; S.device = r.device;
      $("login").style.display = "none";
      $("app").style.display = "flex";
      $("me").textContent = S.user;
      api("GET", "/groups").then((r) => r.groups.forEach((g) => { chat("g:" + g.id, g.name).members = g.members.length; }));
      connect();
    }).catch((err) => { $("login-error").textContent = err.message; });
  };
  $("new-chat").onsubmit = (e) => {
    e.preventDefault();
    const p = $("peer").value.trim();
    if (p && p !== S.user) open("u:" + p);
  };
  $("new-group").onsubmit = (e) => {
    e.preventDefault();
    const members = $("group-members").value.split(",").map((s) => s.trim()).filter(Boolean);
    api("POST", "/groups", { id: $("group-id").value.trim(), name: $("group-id").value.trim(), members }).then((g) => {
      chat("g:" + g.id, g.name).members = g.members.length;
      open("g:" + g.id);
    }).catch((err) => { $("error").textContent = err.message; });
  };
  $("compose").onsubmit = (e) => {
    e.preventDefault();
    const text = $("text").value;
    const file = $("file").files[0];
    $("text").value = "";
    if (file) {
      $("file").value = "";
      api("POST", "/media", undefined, file).then((a) => sendMessage(text, a)).catch((err) => { $("error").textContent = err.message; });
    } else if (text.trim()) {
      sendMessage(text);
    }
  };
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && S.current) S.chats.get(S.current).msgs.forEach((m) => { if (!m.mine) markRead(m); });
  });
  S.sendMessage = sendMessage;
  S.open = open;
})();
