// Patrol (巡查) for grid workers: start and stop from 我的; the track is the shared position history, so starting
// a patrol turns position sharing on. Reports made while a patrol goes on carry its id (kept in the outbox item)
// and are attached to it once sent.
import {get, post, NetworkError} from "./api.js";
import {t} from "./i18n.js";
import {el, fmtTime, toast} from "./ui.js";
import {startSharing} from "./share.js";

const KEY = "m-patrol";
const $ = id => document.getElementById(id);

// The patrol going on (its id), for the report form: null when none.
export const currentPatrol = () => localStorage.getItem(KEY);

function render(patrol) {
  const on = Boolean(patrol && patrol.id);
  if (on) localStorage.setItem(KEY, patrol.id); else localStorage.removeItem(KEY);
  $("m-patrol-toggle").textContent = t(on ? "m_patrol_stop" : "m_patrol_start");
  $("m-patrol-toggle").dataset.on = on ? "1" : "";
  $("m-patrol-status").textContent = on
    ? t("m_patrol_on", {since: fmtTime(patrol.started_at), m: Math.round(patrol.length_m), n: patrol.grid_units.length})
    : "";
}

// Today's patrols of this person's region and the share of each community's unit grids they passed through
// (grid workers, shift leaders, dispatchers, leaders: GET /patrols answers them; the card stays hidden for others).
export async function loadCoverage() {
  const card = $("m-coverage");
  try {
    const today = await get("/patrols");
    $("m-coverage-patrols").textContent = t("m_coverage_patrols", {n: today.items.length});
    $("m-coverage-list").replaceChildren(...today.coverage.map(c => el("li", {"data-community": c.community},
      t("m_coverage_row", {name: c.name, visited: c.visited, units: c.units, pct: Math.round(c.share * 100)}))));
    card.hidden = false;
  } catch (exc) {
    if (!(exc instanceof NetworkError)) card.hidden = true;
  }
}

function ended(patrol) {
  render(null);
  loadCoverage();
  if (patrol && patrol.id) {
    toast(t("m_patrol_done", {m: Math.round(patrol.length_m), n: patrol.grid_units.length,
                              r: patrol.reports.length}));
  }
}

async function toggle() {
  const box = $("m-patrol-toggle");
  box.disabled = true;
  try {
    if (box.dataset.on) ended(await post("/me/patrol/stop"));
    else { render(await post("/me/patrol/start")); startSharing(); }
  } catch (exc) {
    toast(exc instanceof NetworkError ? t("m_patrol_offline") : t("m_failed", {message: exc.message}));
  } finally {
    box.disabled = false;
  }
}

// Show the patrol card to a grid worker linked to an officer (the API refuses anyone else).
export async function initPatrol() {
  const card = $("m-patrol");
  try {
    render(await get("/me/patrol"));
    card.hidden = false;
  } catch (exc) {
    if (!(exc instanceof NetworkError)) { card.hidden = true; localStorage.removeItem(KEY); }
  }
  $("m-patrol-toggle").onclick = toggle;
}
