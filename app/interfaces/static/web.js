() => {
  // An [n] in an answer scrolls to its source card (the chat keeps its own scroll
  // area, so a plain #anchor jump is not reliable inside it).
  document.addEventListener("click", (event) => {
    const link = event.target.closest ? event.target.closest("a.nqa-ref") : null;
    if (!link) return;
    const card = document.getElementById((link.getAttribute("href") || "").slice(1));
    if (!card) return;
    event.preventDefault();
    event.stopPropagation();
    card.scrollIntoView({ behavior: "smooth", block: "center" });
    card.classList.add("nqa-flash");
    setTimeout(() => card.classList.remove("nqa-flash"), 1600);
  }, true);
}
