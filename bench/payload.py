#!/usr/bin/python3
"""Generates the sources and data of the bench's synthetic RPM and Arch packages.

Usage: payload.py OUTDIR

Writes, deterministically (fixed seed, so two builds get the same bytes):
  OUTDIR/src/unitNN.c    16 generated C files, ~0.35 MB each (compiled by payload.sh, and shipped)
  OUTDIR/src/mainN.c     small main() files for the programs
  OUTDIR/doc/*           generated text: a few large .txt files, an HTML page, a man page
  OUTDIR/data/*          binary data: incompressible random bytes, a compressible table,
                         and a few hundred small binary files
Nothing here depends on the time or the machine: the non-deterministic bits of a
build (a build date, __TIME__ in one program) are added by payload.sh.
"""
import os
import random
import struct
import sys

out = sys.argv[1]
rng = random.Random(20240601)

WORDS = (
    'build reproducible package archive member header payload compress digest '
    'timestamp section symbol library program version release source install '
    'verify compare report differ identical checksum tarball control metadata '
    'debug linker object relocation string table offset length record entry '
    'the a of to and in is it that for on with as by from at an be this which'
).split()


def sentence(n):
    w = [rng.choice(WORDS) for _ in range(n)]
    w[0] = w[0].capitalize()
    return ' '.join(w) + '.'


def paragraph(lines=6, width=72):
    text = ' '.join(sentence(rng.randint(6, 16)) for _ in range(lines * 2))
    outl, cur = [], ''
    for word in text.split():
        if len(cur) + len(word) + 1 > width:
            outl.append(cur)
            cur = word
        else:
            cur = f'{cur} {word}' if cur else word
    outl.append(cur)
    return '\n'.join(outl)


def write(path, data):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data.encode() if isinstance(data, str) else data)


# --- C sources -------------------------------------------------------------

N_UNITS = 16
N_FUNCS = 380


def c_unit(u):
    parts = ['#include <string.h>\n#include <stdio.h>\n\n']
    for i in range(N_FUNCS):
        p = f'u{u:02d}_{i:04d}'
        msgs = ', '.join('"' + sentence(rng.randint(3, 7)) + '"' for _ in range(4))
        cases = '\n'.join(f'  case {c}: acc += {rng.randint(1, 99999)}; break;' for c in range(8))
        parts.append(
            f'''struct rec_{p} {{ int a; long b; double c; char name[16]; }};
static const char *msg_{p}[] = {{ {msgs} }};
int f_{p}(int x, struct rec_{p} *r)
{{
  int acc = {rng.randint(0, 1 << 20)};
  for (int k = 0; k < x; k++) {{
    acc += k * {rng.randint(3, 977)} ^ (acc >> 3);
    if (acc > {rng.randint(1 << 16, 1 << 24)}) acc -= {rng.randint(1, 1 << 15)};
  }}
  switch (x & 7) {{
{cases}
  }}
  r->a = acc;
  r->b = (long)acc * {rng.randint(2, 1 << 12)};
  r->c = acc / {rng.randint(2, 999)}.0;
  strncpy(r->name, msg_{p}[x & 3], sizeof r->name - 1);
  return acc + (int)strlen(msg_{p}[x & 3]);
}}

''')
    # One entry point per unit, calling every function, so nothing is dead code.
    parts.append(f'int unit{u:02d}_run(int x)\n{{\n  int s = 0;\n')
    for i in range(N_FUNCS):
        p = f'u{u:02d}_{i:04d}'
        parts.append(f'  {{ struct rec_{p} r; memset(&r, 0, sizeof r); s += f_{p}(x + {i}, &r); }}\n')
    parts.append('  return s;\n}\n')
    return ''.join(parts)


for u in range(N_UNITS):
    write(f'src/unit{u:02d}.c', c_unit(u))

for n, units in ((1, (0, 1)), (2, (2, 3)), (3, (4, 5))):
    decls = ''.join(f'int unit{u:02d}_run(int);\n' for u in units)
    calls = ''.join(f'  s += unit{u:02d}_run(argc);\n' for u in units)
    extra = 'const char *build_stamp(void);\n' if n == 3 else ''
    show = '  puts(build_stamp());\n' if n == 3 else ''
    write(f'src/main{n}.c', f'#include <stdio.h>\n{decls}{extra}int main(int argc, char **argv)\n{{\n  int s = 0;\n  (void)argv;\n{calls}{show}  printf("%d\\n", s);\n  return 0;\n}}\n')
# __DATE__/__TIME__: differs between two builds a second apart (SOURCE_DATE_EPOCH unset).
write('src/stamp.c', 'const char *build_stamp(void) { return "built " __DATE__ " " __TIME__; }\n')

# --- Documentation ---------------------------------------------------------

for name, paras in (('manual.txt', 2600), ('reference.txt', 2600), ('changes.txt', 1300), ('faq.txt', 700)):
    write(f'doc/{name}', '\n\n'.join(f'{i}. ' + paragraph() for i in range(paras)) + '\n')
write('doc/index.html', '<!DOCTYPE html>\n<html><body>\n' + '\n'.join(f'<h2>Section {i}</h2>\n<p>{paragraph()}</p>' for i in range(1200)) + '\n</body></html>\n')
write('doc/reprove-bench.1', '.TH REPROVE-BENCH 1\n.SH NAME\nreprove-bench \\- bench package\n' + ''.join(f'.SH SECTION {i}\n{paragraph()}\n' for i in range(300)))

# --- Binary data -----------------------------------------------------------

write('data/random.bin', rng.randbytes(12 * 1024 * 1024))  # incompressible
write('data/table.bin', b''.join(struct.pack('<IIdQ', i, i * 7 % 1000, i / 3.0, rng.randint(0, 255)) for i in range(250_000)))  # ~6 MB, compressible
for i in range(300):
    n = rng.randint(2048, 20480)
    kind = i % 3
    if kind == 0:
        data = rng.randbytes(n)
    elif kind == 1:
        data = bytes((j * (i + 1)) & 0xFF for j in range(n))
    else:
        data = struct.pack('<I', i) * (n // 4)
    write(f'data/blobs/blob{i:03d}.bin', data)
