// Offline first: every report and every action goes through this IndexedDB queue, photos included, and is sent
// when the network allows. A report carries its client_id (the server replays a resend instead of creating a
// second case); an action's photos are uploaded once (their media ids are kept with the item) and the action
// carries the case version it was decided on (a resend after success is refused, never applied twice).
import {post, ApiError, NetworkError} from "./api.js";

const DB_NAME = "gc-field";
const STORE = "outbox";
const listeners = new Set();
let db = null;
let flushing = null;
let again = false;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function store(mode) {
  if (!db) {
    const opening = indexedDB.open(DB_NAME, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, {keyPath: "id"});
    db = await request(opening);
  }
  return db.transaction(STORE, mode).objectStore(STORE);
}

export async function items() {
  const all = await request((await store("readonly")).getAll());
  return all.sort((a, b) => b.created - a.created);
}

async function save(item) {
  await request((await store("readwrite")).put(item));
  listeners.forEach(fn => fn());
  return item;
}

export const onChange = fn => listeners.add(fn);

// files: [{part, blob, name}]
// patrol: the id of the patrol going on when the report was made (attached to it once sent), or null
export function enqueueReport(report, files, patrol = null) {
  return save({id: report.client_id, kind: "report", status: "waiting", created: Date.now(), report, files, patrol});
}

export function enqueueAction(id, incident, action, body, stage, files) {
  return save({id, kind: "action", status: "waiting", created: Date.now(), incident, action, body, stage, files,
               media_ids: null});
}

function form(fields, files) {
  const data = new FormData();
  Object.entries(fields).forEach(([k, v]) => data.append(k, v));
  files.forEach(f => data.append(f.part, f.blob, f.name || `${f.part}.jpg`));
  return data;
}

// Attach a sent report to its patrol; a refusal (the patrol is gone) leaves the report sent, a network failure sends
// both again (the report is replayed by its client_id, attaching twice is harmless).
async function attach(patrol, incident) {
  try {
    await post(`/me/patrols/${encodeURIComponent(patrol)}/reports`, {incident_id: incident});
  } catch (exc) {
    if (exc instanceof NetworkError || (exc instanceof ApiError && exc.transient)) throw exc;
  }
}

async function send(item) {
  if (item.kind === "report") {
    const body = await post("/reports", form({report: JSON.stringify(item.report)}, item.files));
    if (item.patrol) await attach(item.patrol, body.id);
    return {id: body.id, case_number: body.case_number};
  }
  if (item.files.length && !item.media_ids) {
    const path = `/incidents/${encodeURIComponent(item.incident)}/media`;
    const body = await post(path, form({stage: item.stage}, item.files));
    item.media_ids = body.media.map(m => m.id);
    // Adding the photos was itself one change of the case: the action is still decided on the version before it.
    if (item.body.expected_version && body.version === item.body.expected_version + 1) {
      item.body.expected_version = body.version;
    }
    await save(item);  // uploaded once: a retry of the action does not upload the photos again
  }
  const media = item.media_ids ? {media_ids: item.media_ids} : {};
  const path = `/incidents/${encodeURIComponent(item.incident)}/actions/${item.action}`;
  const body = await post(path, {...item.body, ...media});
  return {id: body.id, case_number: body.case_number, status: body.status};
}

async function attempt(item) {
  try {
    item.result = await send(item);
    item.status = "sent";
    item.files = [];  // sent: the photos are the server's now
  } catch (exc) {
    if (exc instanceof NetworkError || (exc instanceof ApiError && exc.transient)) return false;
    item.status = "refused";
    item.reason = exc.message;
  }
  item.sent_at = Date.now();
  await save(item);
  return true;
}

// Send every waiting item, oldest first; stops at the first that cannot reach the server. One flush at a time: a
// call during a flush makes it look again once it is done (and returns that same flush).
export function flush() {
  if (flushing) {
    again = true;
    return flushing;
  }
  flushing = (async () => {
    try {
      do {
        again = false;
        const waiting = (await items()).filter(i => i.status === "waiting").reverse();
        for (const item of waiting) if (!(await attempt(item))) break;
      } while (again);
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

export async function get(id) {
  return request((await store("readonly")).get(id));
}
