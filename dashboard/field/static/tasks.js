// My tasks: the personal boxes (待办 / 超时 / 已办) sorted by deadline with the traffic light; a task opens to its
// details, photos, timeline and the actions this person may take (GET /me/actions), each with the form it needs.
import {showMap} from "./map.js";
import {get, uuid} from "./api.js";
import {t, has, currentLang} from "./i18n.js";
import {enqueueAction, flush, get as queued} from "./outbox.js";
import {categoryName} from "./report.js";
import {el, toast, show, fmtTime} from "./ui.js";

// The actions offered on the phone, with their fields: [name, kind, required]; `stage` for their photos.
const FORMS = {
  claim: {fields: []},
  handle: {stage: "handle", fields: [["result", "text", true], ["before", "photo"], ["after", "photo"]]},
  return: {stage: "return", fields: [["reason_code", "reasons", true], ["reason", "text"], ["photo", "photo"]]},
  request_extend: {fields: [["until", "datetime", true], ["reason", "text", true]]},
  request_suspend: {fields: [["reason", "text", true]]},
  verify: {stage: "verify", fields: [["note", "text"], ["photo", "photo"]]},
  reject: {stage: "verify", fields: [["reason", "text", true], ["photo", "photo"]]},
  callback: {stage: "callback", fields: [["reached", "check"], ["satisfied", "check"], ["note", "text"]]},
  part_done: {fields: [["note", "text"]]},
};
const LABEL = {result: "m_result", reason: "m_reason", reason_code: "m_reason_code", note: "m_note", until: "m_until",
               reached: "m_reached", satisfied: "m_satisfied", photo: "m_photo", before: "m_before", after: "m_after"};
let box = "todo";
let counts = null;  // null until the boxes were read once
let reasons = null;

export const todoCount = () => (counts ? counts.todo || 0 : null);

const byDeadline = (a, b) => (a.stage_deadline || "9999").localeCompare(b.stage_deadline || "9999");

function statusText(status) {
  return has(`status_${status}`) ? t(`status_${status}`) : status;
}

function actionText(action) {
  if (has(`m_act_${action}`)) return t(`m_act_${action}`);
  return has(`action_${action}`) ? t(`action_${action}`) : action;
}

function taskItem(incident) {
  const li = el("li", {class: `m-task m-light-${incident.light || "none"}`, "data-id": incident.id},
    el("div", {class: "m-li-head"}, el("span", {}, incident.case_number || incident.id.slice(0, 8)),
      el("span", {class: "m-badge"}, statusText(incident.status))),
    el("div", {class: "m-li-sub"}, incident.description || ""),
    el("div", {class: "m-li-sub"}, `${t("m_deadline")} ${fmtTime(incident.stage_deadline)}` +
      (incident.light ? ` · ${t(`m_light_${incident.light}`)}` : "")));
  li.addEventListener("click", () => openTask(incident.id));
  return li;
}

export async function loadTasks() {
  counts = await get("/boxes");
  document.querySelectorAll("[data-count]").forEach(b => { b.textContent = counts[b.dataset.count] || ""; });
  const page = await get(`/boxes/${box}?page_size=100`);
  const items = box === "done" ? page.items : [...page.items].sort(byDeadline);
  const list = document.getElementById("m-task-list");
  list.replaceChildren(...(items.length ? items.map(taskItem) : [el("li", {}, t("m_empty"))]));
  document.querySelectorAll("[data-box]").forEach(b => b.classList.toggle("m-on", b.dataset.box === box));
}

export function initTasks() {
  document.querySelectorAll("[data-box]").forEach(b => b.addEventListener("click", () => {
    box = b.dataset.box;
    loadTasks().catch(exc => toast(t("m_failed", {message: exc.message})));
  }));
  document.getElementById("m-detail-back").addEventListener("click", () => { show("tasks"); loadTasks(); });
}

function details(incident) {
  const rows = [["m_category", incident.category_code && categoryName(incident.category_code)], ["m_address", incident.address],
                ["m_description", incident.description], ["m_deadline", fmtTime(incident.stage_deadline)]];
  const where = incident.location ? `${incident.location.lon.toFixed(5)}, ${incident.location.lat.toFixed(5)}` : "";
  return el("dl", {class: "m-dl"}, ...rows.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", {}, v || "—")]),
    el("dt", {}, t("m_position")), el("dd", {}, where || "—"),
    ...(incident.location ? [el("div", {id: "m-task-map", class: "m-map"})] : []));
}

function mediaBlock(media) {
  const images = media.items.filter(m => m.content_type.startsWith("image/"));
  if (!images.length) return el("p", {class: "m-hint"}, t("m_no_media"));
  return el("div", {class: "m-thumbs"}, ...images.map(m =>
    el("img", {src: `/api/v1/media/${m.id}/thumbnail`, alt: m.kind, loading: "lazy"})));
}

function timelineBlock(timeline) {
  return el("ol", {class: "m-timeline"}, ...timeline.entries.map(e =>
    el("li", {}, `${fmtTime(e.at)} ${e.actor || ""} ${actionText(e.action)}` +
      (e.note ? ` — ${e.note}` : ""))));
}

export async function openTask(id) {
  const [incident, timeline, media, mine] = await Promise.all([
    get(`/incidents/${id}`), get(`/incidents/${id}/timeline`), get(`/incidents/${id}/media`), get(`/me/actions/${id}`)]);
  const actions = mine.actions.filter(a => a in FORMS);
  const body = document.getElementById("m-detail-body");
  body.replaceChildren(
    el("div", {class: `m-card m-light-${incident.light || "none"}`},
      el("div", {class: "m-li-head"}, el("span", {}, incident.case_number || id),
        el("span", {class: "m-badge", id: "m-detail-status"}, statusText(incident.status))),
      details(incident)),
    el("div", {class: "m-card"}, el("h3", {}, t("m_actions")),
      actions.length ? el("div", {class: "m-acts"}, ...actions.map(a =>
        el("button", {type: "button", "data-action": a, onclick: () => actionForm(incident, a)}, t(`m_act_${a}`))))
        : el("p", {class: "m-hint"}, t("m_no_actions")),
      el("div", {id: "m-action-form"})),
    el("div", {class: "m-card"}, el("h3", {}, t("m_media")), mediaBlock(media)),
    el("div", {class: "m-card"}, el("h3", {}, t("m_timeline")), timelineBlock(timeline)));
  show("detail");
  if (incident.location) {  // drawn once visible (Leaflet measures its box); no map offline before Leaflet loaded
    showMap(document.getElementById("m-task-map"), incident.location.lon, incident.location.lat).catch(() => {});
  }
}

function fieldInput(name, kind) {
  if (kind === "text") return el("textarea", {name, rows: "2", maxlength: "2000"});
  if (kind === "check") return el("input", {name, type: "checkbox"});
  if (kind === "datetime") return el("input", {name, type: "datetime-local"});
  if (kind === "photo") return el("input", {name, type: "file", accept: "image/*", capture: "environment"});
  return el("select", {name}, ...(reasons || []).map(r => el("option", {value: r.code}, currentLang() === "en" ? r.name_en : r.name_zh)));
}

async function actionForm(incident, action) {
  const spec = FORMS[action];
  if (spec.fields.some(([, kind]) => kind === "reasons") && !reasons) reasons = (await get("/return-reasons")).items;
  const form = el("form", {class: "m-form", "data-form": action},
    ...spec.fields.map(([name, kind]) => el("label", {class: kind === "check" ? "m-check" : ""},
      el("span", {}, t(LABEL[name])), fieldInput(name, kind))),
    el("button", {class: "m-primary", type: "submit"}, t(`m_act_${action}`)));
  form.addEventListener("submit", event => { event.preventDefault(); submitAction(incident, action, form); });
  document.getElementById("m-action-form").replaceChildren(form);
  if (!spec.fields.length) form.requestSubmit();
}

async function submitAction(incident, action, form) {
  const spec = FORMS[action];
  const body = {expected_version: incident.version};
  const files = [];
  for (const [name, kind, required] of spec.fields) {
    const input = form.elements[name];
    if (kind === "photo") {
      [...input.files].forEach(f => files.push({part: name === "photo" ? "photo" : name, blob: f, name: f.name}));
    } else if (kind === "check") body[name] = input.checked;
    else if (kind === "datetime") { if (input.value) body[name] = new Date(input.value).toISOString(); }
    else if (input.value.trim()) body[name] = input.value.trim();
    if (required && kind !== "check" && !(name in body)) return toast(t("m_failed", {message: t(LABEL[name])}));
  }
  form.querySelector("button[type=submit]").disabled = true;
  const id = uuid();
  await enqueueAction(id, incident.id, action, body, spec.stage || "handle", files);
  await flush();
  const item = await queued(id);
  if (item.status === "sent") {
    toast(t("m_done", {action: t(`m_act_${action}`)}));
    await openTask(incident.id);
  } else if (item.status === "refused") {
    toast(t("m_failed", {message: item.reason}));
    form.querySelector("button[type=submit]").disabled = false;
  } else toast(t("m_queued"));
}
