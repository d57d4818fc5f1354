// The known-cause detectors, most specific first: when two could claim the same
// evidence, both are named, so the order only decides the listing order.
import { buildDateInPackageMetadata } from './build-date-in-package-metadata.js';
import { capturesBuildPathViaAssert } from './captures-build-path-via-assert.js';
import { capturesShellVariableInAutofooScript } from './captures-shell-variable-in-autofoo-script.js';
import { ocamlCapturesBuildPath } from './ocaml-captures-build-path.js';
import { pathsVaryDueToUsrmerge } from './paths-vary-due-to-usrmerge.js';
import { randomnessInDocumentationGeneratedBySphinx } from './randomness-in-documentation-generated-by-sphinx.js';
import { randomnessInRRdbRdsDatabases } from './randomness-in-r-rdb-rds-databases.js';
import { recordsBuildFlags } from './records-build-flags.js';
import { buildIdDifferencesOnly } from './build-id-differences-only.js';
import { capturesBuildPath } from './captures-build-path.js';
import { capturesKernelVersion } from './captures-kernel-version.js';
import type { Detector } from './detector.js';
import { differentDueToUmask } from './different-due-to-umask.js';
import { gccCapturesBuildPath } from './gcc-captures-build-path.js';
import { gnuDebuglinkCrc } from './gnu-debuglink-crc.js';
import { golangBuildId } from './golang-build-id.js';
import { golangCapturesBuildPath } from './golang-captures-build-path.js';
import { randomOrderInArchives } from './random-order-in-archives.js';
import { randomOrderInFile } from './random-order-in-file.js';
import { rpmHeaderOnly } from './rpm-header-only.js';
import { timestampsInArchives } from './timestamps-in-archives.js';
import { timestampsInFileContent } from './timestamps-in-file-content.js';
import { timestampsInGzipHeaders } from './timestamps-in-gzip-headers.js';
import { timestampsInPyc } from './timestamps-in-pyc.js';
import { usersAndGroupsInArchives } from './users-and-groups-in-archives.js';
import { userHostname } from './user-hostname.js';

export const detectors: readonly Detector[] = [
  golangBuildId,
  golangCapturesBuildPath,
  buildIdDifferencesOnly,
  gnuDebuglinkCrc,
  gccCapturesBuildPath,
  ocamlCapturesBuildPath,
  randomnessInRRdbRdsDatabases,
  capturesBuildPathViaAssert,
  recordsBuildFlags,
  capturesBuildPath,
  timestampsInGzipHeaders,
  timestampsInPyc,
  timestampsInArchives,
  randomOrderInArchives,
  usersAndGroupsInArchives,
  differentDueToUmask,
  buildDateInPackageMetadata,
  rpmHeaderOnly,
  capturesKernelVersion,
  userHostname,
  pathsVaryDueToUsrmerge,
  capturesShellVariableInAutofooScript,
  randomnessInDocumentationGeneratedBySphinx,
  timestampsInFileContent,
  randomOrderInFile,
];
