// Optional enhancement: shows the hourly rate of a review while it is typed. Pages work without it.
(function () {
  "use strict";
  function number(form, name) {
    var field = form.elements[name];
    if (!field) { return 0; }
    var text = String(field.value || "").replace(/[^0-9.,]/g, "");
    if (text.indexOf(".") < 0) { text = text.replace(",", "."); } else { text = text.replace(/,/g, ""); }
    var value = parseFloat(text);
    return isNaN(value) ? 0 : value;
  }
  function update(form, output) {
    var seconds = number(form, "minutes") * 60 + number(form, "seconds");
    var pay = number(form, "reward") + number(form, "bonus");
    output.textContent = seconds > 0 ? (pay * 3600 / seconds).toFixed(2) + " per hour" : "";
  }
  document.addEventListener("DOMContentLoaded", function () {
    var output = document.getElementById("hourly-live");
    if (!output || !output.form) { return; }
    var form = output.form;
    form.addEventListener("input", function () { update(form, output); });
    update(form, output);
  });
})();
