// The upload step of the wizard: Uppy's dashboard (progress, speed, ETA, pause/resume) with its
// AwsS3 multipart plugin wired to the hub's upload API (models_app/api.py). On S3 the parts go
// straight to the bucket through presigned URLs; on local storage to the hub's own part endpoint.
// Golden Retriever remembers unfinished uploads, so a reload or a dropped connection resumes them.
(function () {
  "use strict";
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
      const detail = data.detail || Object.values(data).flat().join(" ") || `The hub answered ${response.status}.`;
      throw new Error(detail);
    }
    return data;
  }

  const typeSelect = document.getElementById("file-type");
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
  })
    .use(Uppy.Dashboard, {
      inline: true,
      target: "#uploader",
      height: 380,
      width: "100%",
      theme: "dark",
      showProgressDetails: true,
      proudlyDisplayPoweredByUppy: false,
      note: `Up to ${Math.round(config.maxFileSize / 1024 ** 3)} GiB per file: ${config.allowedExtensions.join(" ")}`,
    })
    .use(Uppy.AwsS3, {
      shouldUseMultipart: () => true,
      limit: 2,
      getChunkSize: () => config.partSize,
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
        return api("GET", `/api/hub/uploads/${key}/parts`);
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
