// What a distribution recorded about a build, in one shape for every distribution:
// the parsers of Debian's .buildinfo, Arch's .BUILDINFO and koji's buildroot
// listings each produce a BuildEnv, and the backends recreate it. Everything in it
// comes from untrusted files: parsers validate every field, and backends pass the
// values to programs as arguments, never through a shell.

/** One package installed in the original build environment, at its exact version. */
export interface RecordedPackage {
  name: string;
  /** The full version as the distribution writes it (epoch:version-release, or Arch's epoch:pkgver-pkgrel). */
  version: string;
  architecture?: string;
  /** Where it can be fetched from, when the parser can tell (an archive URL pattern filled in). */
  url?: string;
}

/** An artifact the original build produced, which the rebuild must produce too. */
export interface ExpectedArtifact {
  name: string;
  sha256?: string;
  size?: number;
}

export interface BuildEnv {
  distribution: 'debian' | 'archlinux' | 'fedora';
  /** The source package: name and version, and where its source comes from when recorded. */
  source: { name: string; version: string; url?: string };
  /** The architecture the build ran on (the distribution's spelling). */
  architecture: string;
  /** Every package of the build environment, with its exact version. */
  packages: RecordedPackage[];
  /** The directory the build ran in, when recorded (Debian's Build-Path, Arch's builddir). */
  buildPath?: string;
  /** Environment variables recorded for the build (DEB_BUILD_OPTIONS, SOURCE_DATE_EPOCH, LANG...). */
  environment: Record<string, string>;
  /** Other recorded settings that shape the build (Arch's buildenv/options, koji's defines: _buildhost, packager...). */
  settings: Record<string, string | string[]>;
  /** When the original build ran, seconds since the epoch, when recorded. */
  buildDate?: number;
  expected: ExpectedArtifact[];
}

/** A build-info file that cannot be used: names the file and the field. */
export class BuildInfoError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly field?: string,
  ) {
    super(`${message} (${file}${field ? `, field ${field}` : ''})`);
    this.name = 'BuildInfoError';
  }
}
