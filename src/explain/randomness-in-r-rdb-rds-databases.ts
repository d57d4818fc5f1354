// randomness_in_r_rdb_rds_databases: R's lazy-load databases and serialised
// objects (.rdb, .rds, .rdx) differ between builds (serialised environments,
// build paths).
import type { Detector } from './detector.js';

const R_DATA = /\.(rdb|rds|rdx|RData|rda)$/;

export const randomnessInRRdbRdsDatabases: Detector = {
  id: 'randomness_in_r_rdb_rds_databases',
  title: 'R databases (.rdb/.rds/.rdx) differ',
  fix: 'Build R packages in a fixed path with a current R (which serialises reproducibly when R_SOURCE_DATE_EPOCH/SOURCE_DATE_EPOCH is set), and without keep.source.',
  detect(items) {
    const found = items.filter((i) => i.artifact.some((p) => R_DATA.test(p)));
    return found.length ? [{ items: found, confidence: 'medium' }] : [];
  },
};
