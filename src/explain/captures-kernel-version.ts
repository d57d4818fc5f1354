// captures_kernel_version: `uname -r` of the build machine written into output.
import type { Detector } from './detector.js';

// Kernel release strings as uname -r prints them on the distributions' builders.
const KERNEL = /\b\d+\.\d+(\.\d+)?-[\w.+~-]*(amd64|arm64|x86_64|aarch64|generic|cloud|rt|fc\d+|el\d+|arch\d*|lts|azure|aws|gcp)[\w.+-]*/gi;

export const capturesKernelVersion: Detector = {
  id: 'captures_kernel_version',
  title: 'The build machine’s kernel version is recorded',
  fix: 'Do not record `uname -r`/`uname -a` output in the build; use the target kernel version from the package metadata if one is needed.',
  normalise: (line) => line.replace(KERNEL, '<KERNEL_VERSION>'),
};
