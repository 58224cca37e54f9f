// Strings of the one catalogue (dashboard/field/strings.py), both languages, embedded in the page: 中文 by default.
const CATALOGUE = JSON.parse(document.getElementById("m-strings").textContent);
const KEY = "m-lang";
let lang = localStorage.getItem(KEY) === "en" ? "en" : "zh";

export function t(key, fmt = {}) {
  const pair = CATALOGUE[key];
  const text = pair ? pair[lang === "en" ? 1 : 0] : key;
  return text.replace(/\{(\w+)\}/g, (all, name) => (name in fmt ? String(fmt[name]) : all));
}

export const has = key => key in CATALOGUE;
export const currentLang = () => lang;

export function applyStrings(root = document) {
  root.querySelectorAll("[data-t]").forEach(el => { el.textContent = t(el.dataset.t); });
  root.querySelectorAll("[data-tp]").forEach(el => { el.placeholder = t(el.dataset.tp); });
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
}

export function toggleLang() {
  lang = lang === "en" ? "zh" : "en";
  localStorage.setItem(KEY, lang);
  applyStrings();
}
