// The ordered list of formats. Recognition tries every format's magic in this
// order, then file names, then falls back to binary: a new format is one file
// plus one line here.
import type { Artifact } from '../compare/artifact.js';
import { arFormat } from './ar.js';
import { debianControlFormat } from './debian-control.js';
import { elfFormat } from './elf.js';
import { gettextFormat } from './gettext.js';
import { javaClassFormat } from './java-class.js';
import { md5sumsFormat } from './md5sums.js';
import { mtreeFormat } from './mtree.js';
import { pkginfoFormat } from './pkginfo.js';
import { pycFormat } from './pyc.js';
import { rpmFormat } from './rpm.js';
import { binaryFormat } from './binary.js';
import { bzip2Format } from './bzip2.js';
import { cpioFormat } from './cpio.js';
import { debFormat } from './deb.js';
import { directoryFormat } from './directory.js';
import { HEAD_SIZE, type Format, type FormatRegistry } from './format.js';
import { gzipFormat } from './gzip.js';
import { jsonFormat } from './json.js';
import { tarFormat } from './tar.js';
import { textFormat } from './text.js';
import { xzFormat } from './xz.js';
import { zipFormat } from './zip.js';
import { zstdFormat } from './zstd.js';

/** Most specific first: a .deb is an ar archive, JSON is text. */
const ordered: readonly Format[] = [
  rpmFormat,
  elfFormat,
  pycFormat,
  gettextFormat,
  javaClassFormat,
  gzipFormat,
  bzip2Format,
  xzFormat,
  zstdFormat,
  debFormat,
  arFormat,
  tarFormat,
  cpioFormat,
  zipFormat,
  mtreeFormat,
  pkginfoFormat,
  debianControlFormat,
  md5sumsFormat,
  jsonFormat,
  textFormat,
];

/** Every format reprove reads; the library's entry point (src/index.ts) hands it to the engine. */
export const defaultFormats: FormatRegistry = {
  formats: ordered,
  fallback: binaryFormat,
  async recognise(a: Artifact): Promise<Format> {
    if (a.meta.type === 'dir') return directoryFormat;
    const head = await a.head(HEAD_SIZE);
    for (const f of ordered) if (f.magic?.(head, a)) return f;
    for (const f of ordered) if (f.fileName?.test(a.name)) return f;
    return binaryFormat;
  },
};
