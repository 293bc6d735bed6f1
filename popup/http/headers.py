def private_page(response, *, scripts: str = ""):
    """Headers for a page whose URL holds a secret token (checkout, pledge, review): the token never
    leaks to another site, the page is never framed, nor kept by a cache. `scripts`: origins whose
    scripts the page may load besides its own."""
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Security-Policy"] = (
        f"script-src 'self' {scripts}".strip() + "; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'"
    )
    response["Cache-Control"] = "no-store"
    return response
