// Keyboard shortcuts for agents; htmx does the in-place updates.
document.addEventListener("keydown", (event) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") {
    const search = document.querySelector("input[name=q]");
    if (search) { event.preventDefault(); search.focus(); }
  }
});
// "Select all" checkboxes for bulk actions.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  document.querySelectorAll(all.dataset.selectAll).forEach((box) => { box.checked = all.checked; });
});
// The SMS counter under a text box with data-sms-counter (its value: the most messages
// allowed). The same arithmetic as tickets/sms.py, which decides; this only tells early.
const GSM_BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENDED = "^{}\\[~]|€\f";
function smsSegments(text) {
  const chars = Array.from(text);
  const gsm = chars.every((c) => GSM_BASIC.includes(c) || GSM_EXTENDED.includes(c));
  const length = gsm
    ? chars.reduce((n, c) => n + (GSM_EXTENDED.includes(c) ? 2 : 1), 0)
    : text.length; // UTF-16 code units, as UCS-2 counts them
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const count = length === 0 ? 0 : length <= single ? 1 : Math.ceil(length / part);
  return { encoding: gsm ? "GSM-7" : "UCS-2", length, count, perSegment: count > 1 ? part : single };
}
function showSmsCount(box) {
  let out = box.parentElement.querySelector("[data-sms-count]");
  if (!out) {
    out = document.createElement("div");
    out.className = "form-text";
    out.dataset.smsCount = "";
    out.setAttribute("aria-live", "polite");
    box.after(out);
  }
  const s = smsSegments(box.value.trim());
  const max = Number(box.dataset.smsCounter);
  const left = s.count * s.perSegment - s.length;
  out.textContent = `${s.length} characters (${s.encoding}) · ${s.count} of at most ${max} messages` +
    (s.count > max ? " — too long to send" : s.count ? ` · ${left} left in this one` : "");
  out.classList.toggle("text-danger", s.count > max);
  box.classList.toggle("is-invalid", s.count > max);
}
document.addEventListener("input", (event) => {
  if (event.target.matches("textarea[data-sms-counter]")) showSmsCount(event.target);
});
function countAllSms(root) { root.querySelectorAll("textarea[data-sms-counter]").forEach(showSmsCount); }
document.addEventListener("DOMContentLoaded", () => countAllSms(document));
document.addEventListener("htmx:afterSwap", (event) => countAllSms(event.target));
