// An empty translation unit for areas that have no sources yet.
