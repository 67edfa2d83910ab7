// Errors the server answers with: a status and a JSON body {error: {code, message}} naming the problem.

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new HttpError(400, code, message);

/** Fastify's own error codes mapped to ours (the message stays Fastify's, which names the problem). */
export function fromFastify(e: { statusCode?: number; code?: string; message: string }, contentType?: string): HttpError {
  const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 600 ? e.statusCode : 500;
  const codes: Record<string, string> = {
    FST_ERR_CTP_INVALID_JSON_BODY: 'bad_json',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'bad_json',
    FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_content_length',
  };
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return new HttpError(
      415,
      'unsupported_media_type',
      `Content-Type '${contentType ?? '(none)'}' is not accepted: send JSON (application/json) or image bytes (image/*, application/octet-stream)`,
    );
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY')
    return new HttpError(400, 'bad_json', `request body is not valid JSON: ${e.message}`);
  return new HttpError(status, codes[e.code ?? ''] ?? (status < 500 ? 'bad_request' : 'internal'), status < 500 ? e.message : 'internal error');
}
