// An error as a page: the status and the message (which may quote hostile input: escaped like all text).
import { Layout, render } from './layout.js';
import { visible } from './security.js';

export function errorPage(status: number, message: string): Promise<string> {
  const title = status === 404 ? 'Not found' : status < 500 ? 'Bad request' : 'Error';
  return render(
    <Layout title={title}>
      <h1>{title}</h1>
      <p>{visible(message)}</p>
      <p>
        <a href="/">Back to the overview</a>
      </p>
    </Layout>,
  );
}
