"""The dashboard's pages, one module per section, each with its own Powertools `Router` that
`dashboard.app` includes; the modules that declare no route hold what two sections share.
"""
