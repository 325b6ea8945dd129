// condorweb: small progressive enhancements; every page works without this file.
function showRequestProblem(text) {
  const box = document.getElementById("htmx-error");
  if (box) {
    box.hidden = false;
    box.textContent = text;
  }
}

document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  showRequestProblem(status === 403
    ? "You are not allowed to do that. Ask an administrator for the permission if you need it."
    : "The console could not complete that request (HTTP " + status + "). Reload the page to see the current state.");
});

// A poll that cannot reach the server: the console restarted or the network dropped.
document.addEventListener("htmx:sendError", () => {
  showRequestProblem("The console does not answer. The page keeps trying; if this stays, check that the console is running and reachable.");
});

// The next request that works means the problem is over.
document.addEventListener("htmx:afterRequest", (event) => {
  const box = document.getElementById("htmx-error");
  if (box && !box.hidden && event.detail.successful) {
    box.hidden = true;
  }
});

// A form whose answer takes a while (it asks HTCondor first) says so while it waits,
// and cannot be sent twice.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("form[data-busy]")) {
    return;
  }
  const busy = form.querySelector(".busy");
  if (busy) {
    busy.hidden = false;
  }
  // After this event, so the clicked button's name and value are still sent.
  setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; }), 0);
});
