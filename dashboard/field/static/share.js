// Position sharing while on duty: off until the officer turns it on (the switch says what is sent and why); one
// fix a minute (battery-friendly: no continuous watch, a cached fix up to 30 s old is fine) to POST /me/position,
// which runs it through the trackers' noise filter. Signing out turns it off.
import {get, post} from "./api.js";
import {t} from "./i18n.js";
import {fmtTime} from "./ui.js";

const KEY = "m-share";
const INTERVAL_MS = 60_000;
let timer = null;
const $ = id => document.getElementById(id);

function status(text) { $("m-share-status").textContent = text; }

function sendOnce() {
  navigator.geolocation.getCurrentPosition(async p => {
    const fix = {lon: p.coords.longitude, lat: p.coords.latitude, accuracy_m: p.coords.accuracy,
                 at: new Date(p.timestamp).toISOString()};
    if (p.coords.speed !== null && p.coords.speed >= 0) fix.speed_mps = p.coords.speed;
    if (p.coords.heading !== null && !Number.isNaN(p.coords.heading)) fix.heading = p.coords.heading;
    try {
      const answer = await post("/me/position", fix);
      status(t("m_share_last", {when: fmtTime(fix.at), result: answer.accepted ? "✓" : answer.reason}));
    } catch (exc) {
      status(t("m_share_last", {when: fmtTime(fix.at), result: exc.message}));
    }
  }, err => status(t("m_no_position", {message: err.message})), {enableHighAccuracy: true, maximumAge: 30_000,
                                                                timeout: 20_000});
}

export function stopSharing(forget = true) {
  clearInterval(timer);
  timer = null;
  if (forget) localStorage.removeItem(KEY);
  $("m-share").checked = false;
}

// Turn sharing on (a patrol's track is the shared positions); nothing to do when it already is.
export function startSharing() {
  if (timer || $("m-share").disabled) return;
  start();
}

function start() {
  localStorage.setItem(KEY, "1");
  $("m-share").checked = true;
  sendOnce();
  timer = setInterval(sendOnce, INTERVAL_MS);
}

// Offer the switch to an account linked to an officer; resume sharing if it was on before a reload.
export async function initSharing() {
  let officer = {officer_id: null};
  try { officer = await get("/me/officer"); } catch (exc) { /* offline: the switch stays as it was */ }
  const box = $("m-share");
  box.disabled = !officer.officer_id;
  if (!officer.officer_id) return status(t("m_share_unlinked"));
  box.onchange = () => (box.checked ? start() : stopSharing());
  if (localStorage.getItem(KEY) === "1" && !timer) start();
}
