/** Loopback ports for the local runs: one free right now, and whether a given one is taken. */
import { type AddressInfo, createServer } from "node:net";

/** Listens on 127.0.0.1:`port` (0: any free one) and closes again; the port it got, or the listen error. */
async function listenOnce(port: number): Promise<number> {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(undefined));
  });
  const { port: got } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(() => resolve(undefined)));
  return got;
}

/** A loopback port free right now: listen on port 0, read the port the OS gave, close. */
export function freeLoopbackPort(): Promise<number> {
  return listenOnce(0);
}

/** Whether something already listens on 127.0.0.1:`port` (another npm start, wrangler dev, …). */
export async function portTaken(port: number): Promise<boolean> {
  return listenOnce(port).then(
    () => false,
    (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") return true;
      throw error;
    },
  );
}
