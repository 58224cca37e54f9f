/* The command center's seat desk in the browser: the queue (patched in place, a stable order, new cases announced
   rather than inserted under the pointer, urgent cases pinned), the keyboard, the urgent/SOS alert with its sound,
   and panning the map to the opened case. The records are fetched once per page, from the URL in dcc.Store cc-open
   (outside Dash: assets/desk_live.js asked for them before Dash drew the page), and are then kept current by
   assets/desk_live.js, which fetches the changed cases itself on every push and hands them to gc.desk.apply, outside
   Dash (a Dash prop update per push kept the browser busy); nothing else here asks the server but opening a case. */
(function () {
  "use strict";

  const LIST = "cc-queue";
  const SEAT_STATUSES = {reported: "new", triage: "new", filed: "dispatch", escalated: "dispatch", returned: "dispatch"};
  const ALERT_STATUSES = new Set(Object.keys(SEAT_STATUSES));
  const MAX_ROWS = 200;
  const CASE_ZOOM = 15, SEE_ZOOM = 14;  // close enough to see the street; the unit grids (zoom 16) stay unloaded until asked for

  const state = {
    order: [],          // ids in the order shown (pinned first), kept stable between updates
    pending: new Set(), // ids that belong in the list but wait for the pointer to leave ("N new ↑")
    leaving: new Set(), // ids that no longer belong, faded until the pointer leaves
    rows: new Map(),    // id -> row element
    drawn: new Map(),   // id -> the signature the row was last drawn with
    key: null,          // tab|street|category|search the order belongs to
    hovering: false,
    cursor: null,       // the keyboard's row
    selected: null,     // the open case
    records: {},
    names: {},
    known: null,        // ids seen so far (null before the first render: nothing alerts at page load)
    alerts: [],         // urgent cases and SOS waiting to be acknowledged
    view: {},           // tab, street, category, search hits: as the queue callback last saw them
    ready: false,       // the page's records have arrived
    load: 0,            // which page's records are being fetched
  };

  function s(key, fmt) {
    let text = (state.names.strings || {})[key] || key;
    Object.keys(fmt || {}).forEach(k => { text = text.split("{" + k + "}").join(fmt[k]); });
    return text;
  }

  function esc(v) {
    return String(v == null ? "" : v).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }

  function overdue(r, now) { return !!(r.dl && r.s !== "suspended" && Date.parse(r.dl) < now); }
  function urgent(r) { return (r.u || 1) >= 2; }

  function inTab(r, tab, now) {
    if (tab === "overdue") return overdue(r, now);
    return SEAT_STATUSES[r.s] === tab;
  }

  function matches(r, street, category) {
    if (street && r.st !== street) return false;
    if (category && !(r.c || "").startsWith(category)) return false;
    return true;
  }

  /** Pinned urgent cases first (most urgent, newest), then the rest newest first. */
  function rank(a, b) {
    const ua = urgent(a) ? a.u : 0, ub = urgent(b) ? b.u : 0;
    if (ua !== ub) return ub - ua;
    return a.t < b.t ? 1 : a.t > b.t ? -1 : 0;
  }

  function ago(iso, now) {
    const minutes = Math.floor((now - Date.parse(iso)) / 60000);
    if (minutes < 1) return s("just_now");
    if (minutes < 60) return s("ago_min", {n: minutes});
    if (minutes < 48 * 60) return s("ago_hour", {n: Math.floor(minutes / 60)});
    return s("ago_day", {n: Math.floor(minutes / 1440)});
  }

  function place(r) {
    const g = state.names.grids || {};
    return [g[r.st], g[r.cm]].filter(Boolean).join(" · ");
  }

  function rowHtml(r, now) {
    const lang = state.names.lang;
    const cat = (lang === "en" ? r.ce : r.cn) || r.c || "—";
    const late = overdue(r, now);
    const urg = urgent(r) ? '<span class="gc-q-urg gc-q-urg-' + r.u + '">' + esc(s("urgency_" + r.u)) + "</span>" : "";
    const clock = late ? '<span class="gc-tag-late">' + esc(s("overdue_flag")) + "</span>"
      : r.l ? '<span class="gc-light gc-light-' + esc(r.l) + '" title="' + esc(s("q_light_title")) + '"><i></i>' + esc(s("q_light_" + r.l)) + "</span>"
        : "";
    return '<div class="gc-urg gc-urg-' + esc(r.u || 1) + '"></div><div class="gc-q-main">' +
      '<div class="gc-q-l1"><span class="gc-q-head">' + urg + '<b class="gc-q-cat">' + esc(cat) + "</b></span>" + clock + "</div>" +
      '<div class="gc-q-desc">' + esc(r.d) + "</div>" +
      '<div class="gc-q-l3"><span class="gc-q-no">' + esc(r.n || r.id.slice(0, 8)) + "</span><span>" + esc(place(r)) +
      "</span><span>" + esc(ago(r.t, now)) + "</span></div></div>";
  }

  function signature(r, now) {
    return [r.s, r.u, r.l, overdue(r, now), r.d, r.n, r.cn, r.st, r.cm, Math.floor((now - Date.parse(r.t)) / 60000)].join("|");
  }

  function rowClass(id) {
    const r = state.records[id] || {};
    const cls = ["gc-qrow"];
    if (urgent(r)) cls.push("gc-qrow-urgent");
    if (overdue(r, Date.now())) cls.push("gc-qrow-late");
    if (id === state.selected) cls.push("gc-qrow-on");
    if (id === state.cursor) cls.push("gc-qrow-cur");
    if (state.leaving.has(id)) cls.push("gc-qrow-gone");
    return cls.join(" ");
  }

  function makeRow(id) {
    const el = document.createElement("div");
    el.setAttribute("data-id", id);
    el.setAttribute("role", "option");
    state.rows.set(id, el);
    return el;
  }

  function paint(id, now) {
    const r = state.records[id];
    const el = state.rows.get(id) || makeRow(id);
    if (r) {
      const sig = signature(r, now);
      if (state.drawn.get(id) !== sig) { el.innerHTML = rowHtml(r, now); state.drawn.set(id, sig); }
      el.setAttribute("data-status", r.s);
      el.setAttribute("data-urgency", r.u || 1);
    }
    el.className = rowClass(id);
    el.setAttribute("aria-selected", id === state.selected ? "true" : "false");
    return el;
  }

  function list() { return document.getElementById(LIST); }

  /** Lay the rows out in state.order, touching only rows that moved or changed. */
  function layout(now) {
    const box = list();
    if (!box) return;
    let prev = null;
    state.order.forEach(id => {
      const el = paint(id, now);
      const want = prev ? prev.nextSibling : box.firstChild;
      if (want !== el) box.insertBefore(el, want);
      prev = el;
    });
    // whatever follows the last row (stale rows, the empty note) goes
    let extra = prev ? prev.nextSibling : box.firstChild;
    while (extra) { const next = extra.nextSibling; box.removeChild(extra); extra = next; }
    const shown = new Set(state.order);
    Array.from(state.rows.keys()).forEach(id => { if (!shown.has(id)) { state.rows.delete(id); state.drawn.delete(id); } });
    if (!state.order.length) {
      const empty = document.createElement("div");
      empty.className = "gc-empty";
      empty.textContent = s((state.key || "").endsWith("|search") ? "q_search_none" : "queue_empty");
      box.appendChild(empty);
    }
    pill();
  }

  function pill() {
    const el = document.getElementById("cc-queue-pill");
    if (!el) return;
    const n = state.pending.size;
    el.textContent = n ? s("q_new_items", {n: n}) : "";
    el.className = n ? "gc-q-pill gc-q-pill-on" : "gc-q-pill";
  }

  /** Apply waiting inserts and removals (the pointer left the list, or the operator asked for them). */
  function settle() {
    if (!state.pending.size && !state.leaving.size) return;
    state.order = state.order.filter(id => !state.leaving.has(id));
    state.leaving.clear();
    const fresh = Array.from(state.pending).filter(id => state.records[id]);
    state.pending.clear();
    state.order = fresh.concat(state.order);
    const rs = state.records;
    state.order.sort((a, b) => rank(rs[a], rs[b]));  // new rows find their place; nothing else changes order
    state.order = state.order.slice(0, MAX_ROWS);
    layout(Date.now());
  }

  function scrollToTop() {
    const box = list();
    if (box) box.scrollTop = 0;
  }

  function wanted(ctxKey, tab, street, category, search, now) {
    if (search) return search.filter(r => r && r.id).map(r => r.id);
    const rs = state.records;
    return Object.keys(rs).filter(id => inTab(rs[id], tab, now) && matches(rs[id], street, category))
      .sort((a, b) => rank(rs[a], rs[b])).slice(0, MAX_ROWS);
  }

  function counts(now) {
    const out = {new: 0, dispatch: 0, overdue: 0};
    Object.values(state.records).forEach(r => {
      const tab = SEAT_STATUSES[r.s];
      if (tab) out[tab] += 1;
      if (overdue(r, now)) out.overdue += 1;
    });
    return out;
  }

  // ---- the urgent/SOS alert: a flashing banner above everything and a tone (after the first user gesture) ----
  let audio = null;
  function soundOn() { return localStorage.getItem("gc-sound") !== "off"; }
  function soundButton() {
    const el = document.getElementById("cc-sound");
    if (el) { el.textContent = s(soundOn() ? "sound_on" : "sound_off"); el.setAttribute("aria-pressed", String(soundOn())); }
  }
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    audio = new (window.AudioContext || window.webkitAudioContext)();
  }
  function tone(times) {
    if (!soundOn() || !audio || audio.state !== "running") return false;
    for (let i = 0; i < times; i += 1) {
      const osc = audio.createOscillator(), gain = audio.createGain(), t0 = audio.currentTime + i * 0.45;
      osc.type = "square";
      osc.frequency.setValueAtTime(i % 2 ? 660 : 880, t0);
      gain.gain.setValueAtTime(0.0001, t0);
      gain.gain.exponentialRampToValueAtTime(0.2, t0 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + 0.35);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0); osc.stop(t0 + 0.4);
    }
    return true;
  }

  function drawAlert() {
    const el = document.getElementById("cc-alert");
    if (!el) return;
    const a = state.alerts[0];
    if (!a) { el.className = "gc-alert"; el.innerHTML = ""; return; }
    const more = state.alerts.length > 1 ? '<span class="gc-alert-more">' + esc(s("alert_more", {n: state.alerts.length - 1})) + "</span>" : "";
    const muted = soundOn() && !(audio && audio.state === "running")
      ? '<button class="gc-alert-sound" data-do="sound">' + esc(s("alert_enable_sound")) + "</button>" : "";
    el.className = "gc-alert gc-alert-on gc-alert-" + a.kind;
    el.setAttribute("data-id", a.id);
    el.innerHTML = '<b class="gc-alert-kind">' + esc(a.title) + '</b><span class="gc-alert-text">' + esc(a.text) + "</span>" + more +
      '<button class="gc-alert-open" data-do="open">' + esc(s("alert_open")) + "</button>" + muted +
      '<button class="gc-alert-close" data-do="dismiss" aria-label="' + esc(s("alert_dismiss")) + '">×</button>';
  }

  function raise(alert) {
    if (state.alerts.some(a => a.key === alert.key)) return;
    state.alerts.push(alert);
    state.alerts.sort((a, b) => b.level - a.level);
    drawAlert();
    tone(alert.kind === "sos" ? 4 : alert.level >= 3 ? 3 : 2);
  }

  function acknowledge(key) {
    state.alerts = state.alerts.filter(a => a.key !== key && a.id !== key);
    drawAlert();
  }

  function caseAlert(r) {
    const lang = state.names.lang;
    return {key: r.id, id: r.id, kind: "case", level: r.u, title: s("urgency_" + r.u),
            text: [r.n, (lang === "en" ? r.ce : r.cn) || r.c, place(r), r.d].filter(Boolean).join(" · ")};
  }

  /** New urgent cases waiting for the seat raise the alert (never those already there when the page opened). */
  function alertNew() {
    const rs = state.records;
    if (state.known === null) { state.known = new Set(Object.keys(rs)); return; }
    Object.keys(rs).forEach(id => {
      if (state.known.has(id)) return;
      state.known.add(id);
      const r = rs[id];
      if (urgent(r) && ALERT_STATUSES.has(r.s)) raise(caseAlert(r));
    });
    state.alerts = state.alerts.filter(a => a.kind !== "case" || (rs[a.id] && ALERT_STATUSES.has(rs[a.id].s)));
    drawAlert();
  }

  // ---- opening a case ----
  function open(id) {
    if (!id) return;
    state.cursor = id;
    select(id);
    acknowledge(id);
    window.dash_clientside.set_props("cc-selected", {data: id});
  }

  function select(id) {
    const before = state.selected;
    state.selected = id;
    [before, id].forEach(k => { const el = k && state.rows.get(k); if (el) el.className = rowClass(k); });
  }

  function moveCursor(step) {
    settle();
    const order = state.order;
    if (!order.length) return;
    let i = order.indexOf(state.cursor);
    i = i < 0 ? (step > 0 ? 0 : order.length - 1) : Math.max(0, Math.min(order.length - 1, i + step));
    const before = state.cursor;
    state.cursor = order[i];
    [before, state.cursor].forEach(k => { const el = k && state.rows.get(k); if (el) el.className = rowClass(k); });
    const el = state.rows.get(state.cursor);
    if (el) el.scrollIntoView({block: "nearest"});
  }

  function clickIn(selector) {
    const el = document.querySelector(selector);
    if (el && !el.disabled) { el.click(); return true; }
    return false;
  }

  function typing(target) {
    const tag = (target && target.tagName) || "";
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function toggleHelp(show) {
    const el = document.getElementById("cc-help");
    if (!el) return false;
    const on = show === undefined ? el.hasAttribute("hidden") : show;
    if (on) el.removeAttribute("hidden"); else el.setAttribute("hidden", "");
    return true;
  }

  function onKey(ev) {
    if (!list() || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    unlockAudio();
    const help = document.getElementById("cc-help");
    if (ev.key === "Escape") {
      if (help && !help.hasAttribute("hidden")) { toggleHelp(false); ev.preventDefault(); return; }
      if (typing(ev.target)) { ev.target.blur(); return; }
      if (state.selected) { window.dash_clientside.set_props("cc-selected", {data: null}); select(null); }
      return;
    }
    if (typing(ev.target)) return;
    const keys = {
      ArrowDown: () => moveCursor(1), j: () => moveCursor(1),
      ArrowUp: () => moveCursor(-1), k: () => moveCursor(-1),
      Enter: () => open(state.cursor || state.order[0]),
      f: () => clickIn('#cc-drawer-actions [data-action="file"]'),
      d: () => clickIn("#cc-drawer .gc-rec-go:not([disabled])") || clickIn('#cc-drawer-actions [data-action="dispatch"]'),
      "/": () => { const el = document.getElementById("cc-search"); if (el) el.focus(); },
      "?": () => toggleHelp(),
      n: () => { settle(); scrollToTop(); },
    };
    const run = keys[ev.key.length === 1 ? ev.key.toLowerCase() : ev.key];
    if (run) { ev.preventDefault(); run(); }
  }

  function onClick(ev) {
    unlockAudio();
    const row = ev.target.closest && ev.target.closest("#" + LIST + " .gc-qrow[data-id]");
    if (row) { open(row.getAttribute("data-id")); return; }
    if (ev.target.closest && ev.target.closest("#cc-queue-pill")) { settle(); scrollToTop(); return; }
    if (ev.target.closest && ev.target.closest("#cc-sound")) {  // the seat's own choice, kept in this browser
      localStorage.setItem("gc-sound", soundOn() ? "off" : "on");
      soundButton();
      drawAlert();
      return;
    }
    const button = ev.target.closest && ev.target.closest("#cc-alert button[data-do]");
    if (button) {
      const a = state.alerts[0];
      const what = button.getAttribute("data-do");
      if (what === "sound") { if (audio) audio.resume().then(drawAlert); return; }
      if (!a) return;
      if (what === "dismiss") acknowledge(a.key);
      if (what === "open" && a.kind === "case") open(a.id);
      if (what === "open" && a.kind === "sos") { acknowledge(a.key); flyTo(a.lon, a.lat); }
    }
  }

  function flyTo(lon, lat) {
    if (lon == null || lat == null) return;
    window.dash_clientside.set_props("cc-map", {viewport: {center: [lat, lon], zoom: CASE_ZOOM, transition: "setView"}});
  }

  function install() {
    if (window.gcDeskInstalled) return;
    window.gcDeskInstalled = true;
    document.addEventListener("keydown", onKey);
    document.addEventListener("click", onClick);
    document.addEventListener("mouseover", ev => {
      const inside = !!(ev.target.closest && ev.target.closest(".gc-queue-box"));
      if (state.hovering && !inside) { state.hovering = false; settle(); }
      else if (inside) state.hovering = true;
    });
    document.addEventListener("mouseleave", () => { state.hovering = false; settle(); });
  }

  /** The text of a React-rendered label, changed in place between the queue callback's own updates (its text node
      keeps its identity, so React's next update of the prop simply overwrites it). */
  function setText(id, text) {
    const el = document.getElementById(id);
    if (!el) return;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const node = walker.nextNode();
    if (node) { if (node.nodeValue !== text) node.nodeValue = text; }
    else el.textContent = text;
  }

  /** The tab labels with their counts and the header's open and overdue counts. */
  function labels(now) {
    const c = counts(now), tabs = state.names.tabs || {};
    return [tabs.new + " " + c.new, tabs.dispatch + " " + c.dispatch, tabs.overdue + " " + c.overdue,
            String(Object.keys(state.records).length), String(c.overdue)];
  }
  const LABEL_IDS = ["cc-tab-new", "cc-tab-dispatch", "cc-tab-overdue", "cc-open-n", "cc-late-n"];

  /** Bring the queue, the alert and the map's markers in line with the records under the current view. */
  function reconcile(now) {
    const v = state.view;
    const key = [v.tab, v.street || "", v.category || "", v.search ? "search" : ""].join("|");
    const want = wanted(key, v.tab, v.street, v.category, v.search, now);
    if (key !== state.key) {  // the operator changed the view: draw it afresh, in order
      state.key = key;
      state.order = want;
      state.pending.clear();
      state.leaving.clear();
      if (v.search) v.search.forEach(r => { if (r && r.id && !state.records[r.id]) state.records[r.id] = r; });
    } else {
      const wantSet = new Set(want), shown = new Set(state.order);
      want.forEach(id => { if (!shown.has(id)) state.pending.add(id); });
      state.pending.forEach(id => { if (!wantSet.has(id)) state.pending.delete(id); });
      state.order.forEach(id => { if (!wantSet.has(id)) state.leaving.add(id); else state.leaving.delete(id); });
      if (!state.hovering || !state.order.length) settle();
    }
    layout(now);
    alertNew();
    soundButton();
    if (window.gc.incidents) window.gc.incidents.sync(state.records, v.street, v.category, state.names.strings);
  }

  /** A delta fetched by assets/desk_live.js ({up: {id: record}, gone: [id]}): merged, then the queue, the markers
      and the counts follow, without Dash. Before the page's records arrived there is nothing to patch. */
  function apply(delta) {
    if (!state.ready || !delta) return;
    if (delta.up) Object.assign(state.records, delta.up);
    if (delta.gone) delta.gone.forEach(id => { delete state.records[id]; });
    const now = Date.now();
    reconcile(now);
    labels(now).forEach((text, i) => setText(LABEL_IDS[i], text));
  }

  /** The page's open cases ({all: {id: record}, seq}: the live feed goes on from seq), from assets/desk_live.js,
      which asked for them early; then the queue, the markers and the counts are drawn (asked again while failing). */
  function load(src, loading) {
    window.gc.live.initial(src).then(body => {
      if (loading !== state.load || !list()) return;  // another page (or a newer one) since
      state.records = (body && body.all) || {};
      state.known = null;
      state.ready = true;
      window.gc.live.start(body.seq);
      const now = Date.now();
      reconcile(now);
      labels(now).forEach((text, i) => setText(LABEL_IDS[i], text));
    }).catch(() => {
      if (loading === state.load && list()) setTimeout(() => load(src, loading), 2000);
    });
  }

  /** Pushed positions carrying an alarm raise the SOS alert (assets/desk_live.js hands every position push here). */
  function sos(positions) {
    (Array.isArray(positions) ? positions : []).forEach(p => {
      if (!p || !p.alarm) return;
      const who = (window.gc && window.gc.officers && window.gc.officers[p.officer_id] || {}).name || p.officer_id;
      const at = window.gc && window.gc.crs ? window.gc.crs.toDisplay(p.lon, p.lat) : [p.lon, p.lat];
      raise({key: "sos:" + p.officer_id + ":" + p.at, id: p.officer_id, kind: "sos", level: 9, title: s("alert_sos"),
             text: [who, s("alert_sos_text", {alarm: p.alarm})].join(" · "), lon: at[0], lat: at[1]});
    });
  }

  // ---- the clientside callbacks (registered in dashboard/pages/command_callbacks.py) ----
  const desk = {
    /** The page's records (all open cases, with the outbox sequence number they are current up to: the live feed
        starts there), the view (tab, street, category, search) and the minute tick: reconcile the queue and the
        map's markers; returns the tab labels with their counts and the header's open and overdue counts. */
    queue: function (initial, tab, street, category, tick, search, names) {
      install();
      state.names = names || {};
      state.view = {tab: tab, street: street, category: category, search: search};
      if (initial && initial.src) {  // a new page: its open cases are fetched (nothing already there alerts)
        state.ready = false;
        state.load += 1;
        setTimeout(() => window.dash_clientside.set_props("cc-open", {data: null}), 0);  // asked once
        load(initial.src, state.load);
      }
      if (!state.ready) return LABEL_IDS.map(() => window.dash_clientside.no_update);
      const now = Date.now();
      reconcile(now);
      return labels(now);
    },
    /** The case opened elsewhere (a marker, a link, the drawer closing): highlight it and pan the map to it. */
    opened: function (id, zoom) {
      select(id || null);
      const r = id && state.records[id];
      if (!r || r.lon == null) return window.dash_clientside.no_update;
      const map = window.gc.incidents && window.gc.incidents.map();
      if (map && map.getZoom() >= SEE_ZOOM && map.getBounds().pad(-0.1).contains([r.lat, r.lon])) {
        return window.dash_clientside.no_update;  // already in plain view: the map stays where the operator put it
      }
      return {center: [r.lat, r.lon], zoom: Math.max(zoom || 0, CASE_ZOOM), transition: "setView", options: {animate: false}};
    }
  };

  window.gc = Object.assign(window.gc || {}, {desk: {state: state, settle: settle, open: open, apply: apply, sos: sos}});
  window.dash_clientside = Object.assign({}, window.dash_clientside, {gc_desk: desk});
})();
