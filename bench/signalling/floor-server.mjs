// The platform's floor for webhook ingest: a bare node:http server on the given port that reads each request's
// body and answers 200 {"received":true}, with no signature check, parsing, Redis or logging. Run under the same
// generator as the signalling app, it says what this machine, Node's HTTP stack and the generator cost by
// themselves, so the ingest figures can be read against it.
//   node floor-server.mjs <port>
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: node floor-server.mjs <port>\n');
  process.exit(2);
}
const ACK = '{"received":true}';
const server = createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': ACK.length });
    res.end(ACK);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
