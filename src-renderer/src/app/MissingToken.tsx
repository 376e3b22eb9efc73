/** Shown in a browser opened without the session token that `studio serve` puts in its link. */
export function MissingToken() {
  return (
    <div className="gate">
      <div className="gate-card panel">
        <h1>Open the studio from its link</h1>
        <p>
          This page needs the session token that <code>studio serve</code> prints when it starts, as a link like{' '}
          <code>http://127.0.0.1:5170/#token=…</code>. Copy that whole link into the address bar.
        </p>
        <p className="muted">The token keeps other programs on this computer from using your studio.</p>
      </div>
    </div>
  );
}
