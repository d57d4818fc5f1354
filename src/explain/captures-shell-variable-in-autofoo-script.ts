// captures_shell_variable_in_autofoo_script: configure writes the builder's
// $SHELL / $CONFIG_SHELL into generated scripts.
import type { Detector } from './detector.js';

const SHELL = /\b((CONFIG_)?SHELL\s*=\s*['"]?|#!\s*)\/(usr\/)?bin\/(ba|da|z|k|mk|tc|c)?sh\b/g;

export const capturesShellVariableInAutofooScript: Detector = {
  id: 'captures_shell_variable_in_autofoo_script',
  title: "The builder's shell is recorded in a generated script",
  fix: 'Run configure with CONFIG_SHELL=/bin/sh and SHELL=/bin/sh exported (dh_auto_configure does), so generated scripts do not record the builder’s login shell.',
  normalise: (line) => line.replace(SHELL, '$1<SHELL>'),
};
