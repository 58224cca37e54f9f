// Report (上报): photos / video / voice from the phone's capture inputs, the category by search or from the recent
// ones, the GPS position with its accuracy, a description; queued in the outbox with its client_id and sent.
import {get, uuid} from "./api.js";
import {t, currentLang} from "./i18n.js";
import {enqueueReport, flush, get as queued} from "./outbox.js";
import {currentPatrol} from "./patrol.js";
import {showMap} from "./map.js";
import {el, toast} from "./ui.js";

const CATS_KEY = "m-categories";
const RECENT_KEY = "m-recent-categories";
const MAX_RESULTS = 8;
let categories = JSON.parse(localStorage.getItem(CATS_KEY) || "[]");
let position = null;
const $ = id => document.getElementById(id);

const name = c => (currentLang() === "en" ? c.name_en : c.name_zh);
export function categoryName(code) {
  const category = categories.find(c => c.code === code);
  return category ? `${name(category)} (${code})` : code;
}

const recent = () => JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");

export async function loadCategories() {
  try {
    categories = (await get("/categories")).items.map(c => ({code: c.code, name_zh: c.name_zh, name_en: c.name_en,
                                                              keywords: c.keywords || []}));
    localStorage.setItem(CATS_KEY, JSON.stringify(categories));  // offline: the last list known
  } catch (exc) { /* offline: keep the stored list */ }
  renderRecent();
}

function choose(code) {
  const category = categories.find(c => c.code === code);
  $("m-cat-code").value = code;
  $("m-cat-chosen").textContent = category ? `${code} ${name(category)}` : code;
  $("m-cat-results").replaceChildren();
  $("m-cat-search").value = "";
}

function renderRecent() {
  const chips = recent().map(code => categories.find(c => c.code === code)).filter(Boolean).map(c =>
    el("button", {type: "button", "data-code": c.code, onclick: () => choose(c.code)}, name(c)));
  $("m-cat-recent").replaceChildren(...(chips.length ? [el("span", {class: "m-hint"}, t("m_recent")), ...chips] : []));
}

function search() {
  const q = $("m-cat-search").value.trim().toLowerCase();
  const hits = !q ? [] : categories.filter(c => c.code.startsWith(q) || c.name_zh.includes(q) ||
    c.name_en.toLowerCase().includes(q) || c.keywords.some(k => k.includes(q))).slice(0, MAX_RESULTS);
  $("m-cat-results").replaceChildren(...hits.map(c =>
    el("li", {"data-code": c.code, onclick: () => choose(c.code)}, `${name(c)} · ${c.code}`)));
}

export function locate() {
  if (position && position.manual) return;  // corrected on the map: kept until sent or 定位 is tapped
  $("m-pos").textContent = t("m_locating");
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(p => {
    if (position && position.manual) return;  // corrected on the map meanwhile: the person knows better
    position = {lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy};
    $("m-pos").textContent = `${position.lon.toFixed(5)}, ${position.lat.toFixed(5)} · ` +
      t("m_accuracy", {m: Math.round(position.accuracy)});
  }, err => { $("m-pos").textContent = t("m_no_position", {message: err.message}); },
  {enableHighAccuracy: true, timeout: 15000, maximumAge: 30000});
}

// Correct the position on the map: drag the pin (or tap the map); the corrected point replaces the GPS fix.
async function adjust() {
  const box = $("m-report-map");
  box.hidden = false;
  const moved = (lon, lat) => {
    position = {lon, lat, accuracy: null, manual: true};
    $("m-pos").textContent = t("m_map_moved", {lon: lon.toFixed(5), lat: lat.toFixed(5)});
  };
  try {
    await showMap(box, position ? position.lon : null, position ? position.lat : null, moved);
  } catch (exc) {
    box.hidden = true;
    toast(t("m_map_unavailable"));
  }
}

function files() {
  const parts = [["m-photo", "photo"], ["m-video", "video"], ["m-voice", "voice"]];
  if ($("m-self").checked) parts.push(["m-self-before", "before"], ["m-self-after", "after"]);
  return parts.flatMap(([id, part]) => [...$(id).files].map(f => ({part, blob: f, name: f.name})));
}

function reportBody() {
  const body = {client_id: uuid(), description: $("m-description").value.trim()};
  if ($("m-cat-code").value) body.category_code = $("m-cat-code").value;
  if (position) Object.assign(body, {lon: position.lon, lat: position.lat});
  if ($("m-address").value.trim()) body.address = $("m-address").value.trim();
  if ($("m-self").checked) Object.assign(body, {self_handled: true, result: $("m-self-result").value.trim()});
  return body;
}

function remember(code) {
  localStorage.setItem(RECENT_KEY, JSON.stringify([code, ...recent().filter(c => c !== code)].slice(0, 6)));
  renderRecent();
}

async function submit(event) {
  event.preventDefault();
  const error = $("m-report-error");
  const body = reportBody();
  if (!body.category_code) return void (error.textContent = t("m_need_category"));
  if (body.lon === undefined && !body.address) return void (error.textContent = t("m_need_position"));
  error.textContent = "";
  await enqueueReport(body, files(), currentPatrol());
  remember(body.category_code);
  $("m-report-form").reset();
  $("m-cat-code").value = "";
  $("m-cat-chosen").textContent = "";
  $("m-self-fields").hidden = true;
  $("m-report-map").hidden = true;
  if (position && position.manual) { position = null; locate(); }  // the next report starts from the GPS again
  await flush();
  const item = await queued(body.client_id);
  if (item.status === "sent") toast(`${t("m_sent_report")} ${item.result.case_number || ""}`);
  else if (item.status === "refused") toast(t("m_q_refused", {reason: item.reason}));
  else toast(t("m_queued"));
}

export function initReport() {
  $("m-cat-search").addEventListener("input", search);
  $("m-locate").addEventListener("click", () => { position = null; locate(); });
  $("m-map-adjust").addEventListener("click", adjust);
  $("m-self").addEventListener("change", () => { $("m-self-fields").hidden = !$("m-self").checked; });
  $("m-report-form").addEventListener("submit", submit);
}
