// condorweb: small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("htmx-error");
  if (box) {
    box.hidden = false;
    box.textContent = "The console could not complete that request (HTTP " + event.detail.xhr.status + "). Reload the page to see the current state.";
  }
});
