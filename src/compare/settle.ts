// Promise.all that waits for every promise to settle before it rejects. With
// Promise.all, the first failure returns at once while the other side goes on
// reading files and writing temporary ones after the comparison has ended and
// its directory is gone; no work may outlive the call that started it.
export async function settleAll<T extends readonly unknown[] | []>(values: T): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const results = await Promise.allSettled(values);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [P in keyof T]: Awaited<T[P]> };
}
