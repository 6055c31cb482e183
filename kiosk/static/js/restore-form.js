// What a member of staff typed into a form before their session lapsed, put back after they
// logged in again (kiosk/errors.py keeps it, for this page only, without passwords).
(function () {
  "use strict";
  var block = document.getElementById("qms-restored-form");
  if (!block) return;
  var kept = JSON.parse(block.textContent);
  var forms = Array.prototype.filter.call(document.forms, function (form) {
    return new URL(form.action, location.href).pathname === kept.action;
  });
  forms.forEach(function (form) {
    Object.keys(kept.fields).forEach(function (name) {
      var values = kept.fields[name];
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name !== name || el.type === "hidden" || el.type === "password") return;
        if (el.type === "checkbox" || el.type === "radio") {
          el.checked = values.indexOf(el.value) >= 0;
        } else if (el.tagName === "SELECT") {
          Array.prototype.forEach.call(el.options, function (option) {
            option.selected = values.indexOf(option.value) >= 0;
          });
        } else {
          el.value = values[0];
        }
      });
    });
  });
})();
