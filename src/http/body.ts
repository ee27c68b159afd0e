/**
 * JSON-RPC errors answered before a message reaches the SDK, and JSON bodies
 * read under a size cap, on web-standard Request/Response (Node and Workers).
 */

/** JSON-RPC error codes we answer with ourselves. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const SERVER_ERROR = -32000;
/** The SDK's code for an unknown session (its own 404s use it too). */
export const SESSION_NOT_FOUND = -32001;

export function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { ...headers, 'content-type': 'application/json' },
  });
}

export type JsonBody = { ok: true; value: unknown } | { ok: false; response: Response };

function tooLarge(maxBytes: number): JsonBody {
  // The unread rest is not worth reading: the connection closes after the answer.
  return { ok: false, response: jsonRpcError(413, SERVER_ERROR, `Request body too large (over ${maxBytes} bytes)`, { connection: 'close' }) };
}

/** Reads up to maxBytes of the stream; undefined when there is more. */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | undefined> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // Released, not cancelled: on Node, cancelling destroys the socket before the 413 could be sent.
      reader.releaseLock();
      return undefined;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** Parses a JSON body of at most maxBytes (declared or streamed); 413 above it, -32700 when unparseable. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<JsonBody> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(maxBytes);
  // With a declared length (within the cap) HTTP framing bounds the body, and arrayBuffer() is the hosts'
  // fast path (on Node it skips the web stream); without one, read chunk by chunk and stop at the cap.
  let bytes: Uint8Array | undefined;
  if (Number.isFinite(declared)) bytes = new Uint8Array(await request.arrayBuffer());
  else bytes = request.body ? await readCapped(request.body, maxBytes) : new Uint8Array();
  if (bytes === undefined) return tooLarge(maxBytes);
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(bytes)) };
  } catch {
    return { ok: false, response: jsonRpcError(400, PARSE_ERROR, 'Parse error: the body is not valid JSON') };
  }
}

/**
 * The same response, calling `onEnd` once its body has been read to the end, failed, or been cancelled by
 * the client: a streamed answer (SSE) is in flight until then.
 */
export function onBodyEnd(response: Response, onEnd: () => void): Response {
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    onEnd();
  };
  if (!response.body) {
    end();
    return response;
  }
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (chunk.done) {
          controller.close();
          end();
        } else controller.enqueue(chunk.value);
      } catch (error) {
        controller.error(error);
        end();
      }
    },
    cancel(reason) {
      end();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
