/**
 * Runtime floor for `npm run bench`: forwards the body to the stand-in;
 * no auth, validation, signing or verification.
 */
export default {
  async fetch(request, env) {
    const upstream = await fetch(env.UPSTREAM, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: await request.text(),
    });
    return new Response(await upstream.text(), {
      status: upstream.status,
      headers: { "Content-Type": "application/json" },
    });
  },
};
