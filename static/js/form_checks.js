// The admin's forms carry `novalidate`, so a form the browser could have refused (a name left
// empty, a price like "10 €", more photos than the server takes) went to the server, whose
// refusal came back without the photos chosen in it: no page may fill a file input, and more
// photos than the server takes even got a bare "Bad Request". When a form leaves with photos
// chosen, check first what its inputs say they need (required, a pattern:
// catalog.forms.PriceInput, a most number of files: catalog.forms.MultipleFileInput) and keep
// the form as it is when one is wrong. Without photos nothing is lost, and the server's own
// messages stand. The server still checks everything.
function tooManyFiles(input) {
  const most = Number(input.dataset.maxFiles);
  const wrong = input.files.length > most;
  input.setCustomValidity(wrong ? input.dataset.maxFilesMessage.replace("%(count)d", most) : "");
  return wrong;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  const chosen = [...form.querySelectorAll("input[type=file]")].some((input) => input.files.length);
  if (!chosen) return;
  form.querySelectorAll("input[type=file][data-max-files]").forEach(tooManyFiles);
  if (!form.checkValidity()) {
    event.preventDefault();
    form.reportValidity();
  }
});

// a new choice of photos clears the last refusal
document.addEventListener("change", (event) => {
  if (event.target.matches?.("input[type=file][data-max-files]")) tooManyFiles(event.target);
});
