// Drag and drop onto areas of the page. An area (matched by `selector`) is marked while something is
// dragged over it, and what is dropped there goes to `onDrop(area, dataTransfer)` instead of being
// opened by the browser. The listeners sit on the document, so areas that htmx adds later work too.
export function dropZone(selector, onDrop) {
  const areaOf = (event) => event.target.closest?.(selector);
  for (const type of ["dragenter", "dragover"]) {
    document.addEventListener(type, (event) => {
      const area = areaOf(event);
      if (!area) return;
      event.preventDefault();
      area.classList.add("dragging");
    });
  }
  document.addEventListener("dragleave", (event) => {
    const area = areaOf(event);
    if (area && !area.contains(event.relatedTarget)) area.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    const area = areaOf(event);
    if (!area) return;
    event.preventDefault();
    area.classList.remove("dragging");
    onDrop(area, event.dataTransfer);
  });
}
