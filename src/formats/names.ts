// The names detectors and policies use to refer to formats and to the nodes formats
// make: one constant each, used by the format that makes the node and by whatever
// looks for it, so a renamed node cannot silently stop a detector or a policy.

/** Each format's name (Format.name, Difference.format, a policy's appliesTo.format). */
export const FORMAT = {
  ar: 'ar',
  binary: 'binary',
  bzip2: 'bzip2',
  cpio: 'cpio',
  deb: 'deb',
  debianControl: 'debian-control',
  directory: 'directory',
  elf: 'elf',
  gettext: 'gettext',
  gzip: 'gzip',
  javaClass: 'java-class',
  json: 'json',
  md5sums: 'md5sums',
  mtree: 'mtree',
  pkginfo: 'pkginfo',
  pyc: 'pyc',
  rpm: 'rpm',
  tar: 'tar',
  text: 'text',
  xz: 'xz',
  zip: 'zip',
  zstd: 'zstd',
} as const;

/** Titles (source1) of nodes that detectors and policies look for. */
export const NODE = {
  /** A container's listing of its members with their metadata. */
  fileList: 'file list',
  /** The header fields of a compressed stream (`gzip header`, `xz header`...). */
  streamHeader: (format: string) => `${format} header`,
  gzipHeader: 'gzip header',
  pycHeader: 'pyc header',
  rpmLead: 'lead',
  rpmSignatureHeader: 'signature header',
  rpmHeader: 'header',
  /** The decompressed .MTREE of an Arch package. */
  mtreeContent: '.MTREE-content',
} as const;

/** A regular expression matching exactly `name`, for policies' node patterns. */
export const exactly = (...names: string[]): string => `^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
