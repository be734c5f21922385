// The upload step of the wizard: Uppy's dashboard (progress, speed, ETA, pause/resume) with its
// AwsS3 multipart plugin wired to the hub's upload API (models_app/api.py). On S3 the parts go
// straight to the bucket through presigned URLs; on local storage to the hub's own part endpoint.
// Golden Retriever remembers unfinished uploads, so a reload or a dropped connection resumes them.
// In another browser (no remembered state) the hub is asked for an unfinished upload of the same
// file (name and size): the creator may resume it, and every part already stored is checked against
// the file's own bytes (MD5, md5.js) so that only missing or different parts are sent.
(function () {
  "use strict";
  const gettext = window.gettext || ((text) => text); // the catalog at /jsi18n/ (docs/i18n.md)
  const ngettext = window.ngettext || ((one, many, n) => (n === 1 ? one : many));
  const interpolate = window.interpolate || ((text, values) => text.replace(/%\((\w+)\)s/g, (m, key) => values[key]));
  const config = JSON.parse(document.getElementById("upload-config").textContent);
  const csrfToken = document.querySelector("[name=csrfmiddlewaretoken]").value;

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = data.detail || Object.values(data).flat().join(" ") || interpolate(gettext("The hub answered %(status)s."), { status: response.status }, true);
      throw new Error(detail);
    }
    return data;
  }

  const typeSelect = document.getElementById("file-type");
  // An upload resumed from another browser keeps the part size it was started with.
  const partSizes = new WeakMap(); // file.data -> bytes per part
  const undecided = new Set(); // ids of files being looked up on the hub, or whose question is open
  let uploadWanted = false; // Upload was pressed meanwhile: start once every file is decided
  const uppy = new Uppy.Uppy({
    id: `version-${config.versionId}`, // Golden Retriever keeps state per version
    autoProceed: false,
    restrictions: {
      maxFileSize: config.maxFileSize,
      allowedFileTypes: config.allowedExtensions,
    },
    onBeforeFileAdded(file) {
      file.meta.fileType = typeSelect ? typeSelect.value : "Model";
      return file;
    },
    onBeforeUpload(files) {
      if (undecided.size) {
        uploadWanted = true;
        const asking = document.querySelector("[data-testid=resume-offer]");
        uppy.info(asking ? gettext("Choose Resume or Start over above; the upload then starts.") : gettext("Looking for an unfinished upload of this file..."), "info", 4000);
        return false;
      }
      return files;
    },
  })
    .use(Uppy.Dashboard, {
      inline: true,
      target: "#uploader",
      height: 380,
      width: "100%",
      theme: "dark",
      showProgressDetails: true,
      proudlyDisplayPoweredByUppy: false,
      note: interpolate(gettext("Up to %(size)s GiB per file: %(types)s"), { size: Math.round(config.maxFileSize / 1024 ** 3), types: config.allowedExtensions.join(" ") }, true),
    })
    .use(Uppy.AwsS3, {
      shouldUseMultipart: () => true,
      limit: 2,
      getChunkSize: (data) => partSizes.get(data) || config.partSize, // Uppy passes the file's bytes
      async createMultipartUpload(file) {
        const data = await api("POST", "/api/hub/uploads", {
          version_id: config.versionId,
          filename: file.name,
          size: file.size,
          type: file.meta.fileType || "Model",
        });
        refreshFiles();
        return { uploadId: data.uploadId, key: data.key };
      },
      async listParts(file, { key }) {
        const parts = await api("GET", `/api/hub/uploads/${key}/parts`);
        return samePartsOnly(file, parts);
      },
      async signPart(file, { key, partNumber }) {
        return api("POST", `/api/hub/uploads/${key}/parts/${partNumber}`);
      },
      async completeMultipartUpload(file, { key }) {
        const data = await api("POST", `/api/hub/uploads/${key}/complete`);
        refreshFiles();
        return { location: data.name };
      },
      async abortMultipartUpload(file, { key }) {
        await api("DELETE", `/api/hub/uploads/${key}`).catch(() => {});
      },
    })
    .use(Uppy.GoldenRetriever);

  // The parts storage holds that are this file's own bytes: the same length and MD5 (a part's ETag)
  // as the same slice of the file. Uppy sends the others again, replacing what is stored.
  async function samePartsOnly(file, parts) {
    if (!parts.length) return parts;
    const size = partSizes.get(file.data) || config.partSize;
    uppy.info(interpolate(gettext("Checking the %(count)s part(s) of %(name)s already uploaded..."), { count: parts.length, name: file.name }, true), "info", 3000);
    const same = [];
    for (const part of parts) {
      const start = (part.PartNumber - 1) * size;
      const end = Math.min(start + size, file.size);
      if (start >= file.size || part.Size !== end - start) continue;
      const bytes = new Uint8Array(await file.data.slice(start, end).arrayBuffer());
      if (window.hubMd5(bytes) === String(part.ETag).replace(/"/g, "").toLowerCase()) same.push(part);
    }
    if (same.length < parts.length) {
      uppy.info(interpolate(gettext("%(count)s uploaded part(s) differ from %(name)s; sending them again."), { count: parts.length - same.length, name: file.name }, true), "warning", 6000);
    }
    return same;
  }

  // A question above the uploader, answered by a button; resolves to the button's data-answer.
  function ask(question, answers) {
    return new Promise((resolve) => {
      const box = document.createElement("div");
      box.className = "resume-offer notice";
      box.setAttribute("role", "alertdialog");
      box.setAttribute("data-testid", "resume-offer");
      const text = document.createElement("p");
      text.textContent = question;
      box.appendChild(text);
      answers.forEach(([answer, label], index) => {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.dataset.answer = answer;
        if (index) button.className = "secondary";
        box.appendChild(button);
        box.appendChild(document.createTextNode(" "));
      });
      box.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-answer]");
        if (!button) return;
        box.remove();
        resolve(button.dataset.answer);
      });
      const uploader = document.getElementById("uploader");
      uploader.parentNode.insertBefore(box, uploader);
      box.querySelector("button").focus();
    });
  }

  // A file added here that an unfinished upload on the hub already has (started in another browser,
  // or here before its state was lost): offer to resume it instead of starting again at part 1.
  uppy.on("file-added", async (file) => {
    if (file.s3Multipart && file.s3Multipart.uploadId) return; // Golden Retriever resumes this one
    undecided.add(file.id);
    try {
      const query = new URLSearchParams({ version: config.versionId, name: file.name, size: file.size });
      const { uploads } = await api("GET", `/api/hub/uploads?${query}`);
      const upload = uploads[0];
      if (!upload || !uppy.getFile(file.id)) return;
      const percent = Math.floor((100 * upload.uploaded_bytes) / upload.size);
      const answer = await ask(interpolate(gettext("Resume the unfinished upload of %(name)s (%(percent)s% uploaded)?"), { name: file.name, percent }, true), [
        ["resume", gettext("Resume")],
        ["restart", gettext("Start over")],
      ]);
      if (!uppy.getFile(file.id)) return;
      if (answer === "resume") {
        partSizes.set(file.data, upload.part_size);
        uppy.setFileState(file.id, { s3Multipart: { key: upload.key, uploadId: upload.uploadId } });
      } else {
        await api("DELETE", `/api/hub/uploads/${upload.key}`).catch(() => {});
        refreshFiles();
      }
    } catch (error) {
      // The question is a convenience: without an answer the file is simply uploaded anew.
    } finally {
      decided(file.id);
    }
  });
  uppy.on("file-removed", (file) => decided(file.id));

  function decided(fileId) {
    undecided.delete(fileId);
    if (uploadWanted && !undecided.size) {
      uploadWanted = false;
      uppy.upload().catch(() => {}); // errors are shown by the upload-error handler
    }
  }

  uppy.on("upload-error", (file, error) => {
    uppy.info(`${file.name}: ${error.message}`, "error", 8000);
  });
  window.hubUppy = uppy; // for the browser tests and the curious

  // The table of this version's files, refreshed while any of them is still on its way.
  const table = document.getElementById("version-files");
  function refreshFiles() {
    if (window.hubFileStatus) window.hubFileStatus.refresh(table);
  }
})();
