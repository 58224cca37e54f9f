// The field app's entry: sign-in, the tab bar, the outbox view, online state, live updates and the service worker.
import {get, post, NetworkError} from "./api.js";
import {t, applyStrings, toggleLang} from "./i18n.js";
import {items, flush, onChange} from "./outbox.js";
import {initTasks, loadTasks, todoCount} from "./tasks.js";
import {initReport, loadCategories, locate} from "./report.js";
import {initSharing, stopSharing} from "./share.js";
import {initPatrol, loadCoverage} from "./patrol.js";
import {connectLive, disconnectLive, newTasks} from "./live.js";
import {el, show, toast, fmtTime} from "./ui.js";

const ME_KEY = "m-me";
const $ = id => document.getElementById(id);
let me = null;

async function refreshTasks() {
  const before = todoCount();
  try {
    await loadTasks();
    newTasks(before, todoCount());
  } catch (exc) {
    if (!(exc instanceof NetworkError)) toast(t("m_failed", {message: exc.message}));
  }
}

async function renderQueue() {
  const all = await items();
  const waiting = all.filter(i => i.status === "waiting").length;
  $("m-queue-count").textContent = waiting || "";
  const label = i => (i.kind === "report" ? t("m_q_report") : `${t("m_q_action")} ${t(`m_act_${i.action}`)}`);
  const state = i => (i.status === "refused" ? t("m_q_refused", {reason: i.reason}) : t(`m_q_${i.status}`));
  $("m-queue-list").replaceChildren(...(all.length ? all.map(i =>
    el("li", {class: `m-q-${i.status}`, "data-id": i.id, "data-status": i.status},
      el("div", {class: "m-li-head"}, el("span", {}, label(i)), el("span", {class: "m-badge"}, state(i))),
      el("div", {class: "m-li-sub"}, `${fmtTime(new Date(i.created).toISOString())} ` +
        ((i.result && i.result.case_number) || (i.report && i.report.description) || "")))) :
    [el("li", {}, t("m_queue_empty"))]));
}

function online() {
  const on = navigator.onLine;
  $("m-net").textContent = on ? t("m_online") : t("m_offline");
  $("m-net").classList.toggle("m-off", !on);
  if (on) flush();
}

function tab(name) {
  show(name);
  if (name === "tasks") refreshTasks();
  if (name === "queue") renderQueue();
  if (name === "report") locate();
}

async function start(principal) {
  me = principal;
  localStorage.setItem(ME_KEY, JSON.stringify(principal));
  $("m-who").textContent = t("m_signed_in_as", {name: principal.username, role: t(`role_${principal.role}`)});
  $("m-tabs").hidden = false;
  tab("tasks");
  loadCategories();
  initSharing();
  initPatrol();
  loadCoverage();
  connectLive(refreshTasks);
  flush();
}

async function signIn(event) {
  event.preventDefault();
  const body = {username: $("m-username").value.trim(), password: $("m-password").value};
  if ($("m-totp").value.trim()) body.totp = $("m-totp").value.trim();
  try {
    await start(await post("/auth/login", body));
  } catch (exc) {
    $("m-login-error").textContent = exc instanceof NetworkError ? t("m_offline_signin")
      : t("m_login_failed", {message: exc.message});
  }
}

async function signOut() {
  stopSharing();
  localStorage.removeItem("m-patrol");
  disconnectLive();
  try { await post("/auth/logout"); } catch (exc) { /* offline: the cookie ends with the server's timeouts */ }
  localStorage.removeItem(ME_KEY);
  me = null;
  $("m-tabs").hidden = true;
  show("login");
}

async function boot() {
  applyStrings();
  $("m-lang").addEventListener("click", () => { toggleLang(); online(); if (me) tab("tasks"); });
  $("m-login-form").addEventListener("submit", signIn);
  $("m-logout").addEventListener("click", signOut);
  document.querySelectorAll("[data-tab]").forEach(b => b.addEventListener("click", () => tab(b.dataset.tab)));
  initTasks();
  initReport();
  onChange(renderQueue);
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && me) { refreshTasks(); flush(); }
  });
  online();
  renderQueue();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/m/sw.js", {scope: "/m/"}).catch(() => {});
  try {
    await start(await get("/auth/me"));
  } catch (exc) {
    const known = localStorage.getItem(ME_KEY);
    if (exc instanceof NetworkError && known) await start(JSON.parse(known));  // offline: work from the queue
    else show("login");
  }
}

boot();
