// Validate glTF/GLB files with the Khronos glTF-Validator (npm "gltf-validator").
// Usage: node tools/validate_gltf.mjs FILE...  -> prints one JSON report per file (an array);
// exits 1 if any file has errors. Install once: (cd tools && npm ci).
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

let failed = false;
const reports = [];
for (const path of process.argv.slice(2)) {
  const report = await validator.validateBytes(new Uint8Array(await readFile(path)), {
    uri: path,
    maxIssues: 0,
  });
  reports.push(report);
  if (report.issues.numErrors > 0) failed = true;
}
console.log(JSON.stringify(reports, null, 1));
process.exit(failed ? 1 : 0);
