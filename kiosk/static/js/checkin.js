// The kiosk's booking check-in: on-screen keys type into the code field (a scanner types there too).
(function () {
  "use strict";
  const field = document.getElementById("checkin-code");
  if (!field || field.dataset.keys) return;
  field.dataset.keys = "on";
  document.querySelector("#checkin-form .keys").addEventListener("click", function (event) {
    const key = event.target.closest("[data-key]");
    if (!key) return;
    field.value = key.dataset.key === "erase" ? field.value.slice(0, -1) : (field.value + key.dataset.key).slice(0, 200);
    field.focus();
  });
})();
