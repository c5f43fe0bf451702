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
