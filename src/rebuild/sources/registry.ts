// Every kind of package source, in one list: the config file's `sources` entries
// name one of these kinds, and the daemon builds each with its options. Adding a
// distribution's source is one file in this directory and one line here.
import { archRepoSource } from './arch-repo.js';
import { debianArchiveSource } from './debian-archive.js';
import { fedoraKojiSource } from './fedora-koji.js';
import { webhookSource } from './webhook.js';
import { type Source, type SourceConfig, SourceError } from './source.js';

export type SourceFactory = (config: SourceConfig) => Source;

export const SOURCE_KINDS: Record<string, SourceFactory> = {
  'arch-repo': archRepoSource,
  'debian-archive': debianArchiveSource,
  'fedora-koji': fedoraKojiSource,
  webhook: webhookSource,
};

/** The source a config entry describes; a SourceError naming the entry when it cannot be made. */
export function makeSource(config: SourceConfig): Source {
  const factory = SOURCE_KINDS[config.kind];
  if (!factory) throw new SourceError(`Cannot configure source ${config.name}: kind ${JSON.stringify(config.kind)} is not one of ${Object.keys(SOURCE_KINDS).join(', ')}`);
  return factory(config);
}
