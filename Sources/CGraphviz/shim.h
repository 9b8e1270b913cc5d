#include <gvc.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Graphviz 2.42 takes `char *` everywhere and hides its layout results behind
   macros; these wrappers give Swift `const char *` parameters and plain
   accessors. Every call must happen under ChainruleFigures' Graphviz lock. */

static inline Agraph_t *cr_open_directed(const char *name) {
    return agopen((char *)name, Agdirected, NULL);
}
static inline Agraph_t *cr_subgraph(Agraph_t *g, const char *name) {
    return agsubg(g, (char *)name, 1);
}
static inline Agnode_t *cr_node(Agraph_t *g, const char *name) {
    return agnode(g, (char *)name, 1);
}
static inline void cr_subgraph_add_node(Agraph_t *sub, Agnode_t *n) {
    agsubnode(sub, n, 1);
}
static inline Agedge_t *cr_edge(Agraph_t *g, Agnode_t *tail, Agnode_t *head) {
    return agedge(g, tail, head, NULL, 1);
}
static inline void cr_set(void *object, const char *name, const char *value) {
    agsafeset(object, (char *)name, (char *)value, "");
}
static inline void cr_quiet_errors(void) { agseterr(AGMAX); }
static inline const char *cr_last_error(void) { return aglasterr(); }

static inline int cr_layout_dot(GVC_t *gvc, Agraph_t *g) { return gvLayout(gvc, g, "dot"); }

/* Bounding box (points, y up): LL.x, LL.y, UR.x, UR.y */
static inline double cr_bb_llx(Agraph_t *g) { return GD_bb(g).LL.x; }
static inline double cr_bb_lly(Agraph_t *g) { return GD_bb(g).LL.y; }
static inline double cr_bb_urx(Agraph_t *g) { return GD_bb(g).UR.x; }
static inline double cr_bb_ury(Agraph_t *g) { return GD_bb(g).UR.y; }

/* A node's centre (points, y up) and size (inches). */
static inline double cr_node_x(Agnode_t *n) { return ND_coord(n).x; }
static inline double cr_node_y(Agnode_t *n) { return ND_coord(n).y; }

/* An edge's spline: the first bezier (dot draws one per edge), 3n+1 points. */
static inline int cr_edge_point_count(Agedge_t *e) {
    splines *s = ED_spl(e);
    return (s && s->size > 0) ? s->list[0].size : 0;
}
static inline double cr_edge_point_x(Agedge_t *e, int i) { return ED_spl(e)->list[0].list[i].x; }
static inline double cr_edge_point_y(Agedge_t *e, int i) { return ED_spl(e)->list[0].list[i].y; }
static inline int cr_edge_has_arrow(Agedge_t *e) {
    splines *s = ED_spl(e);
    return (s && s->size > 0) ? s->list[0].eflag : 0;
}
static inline double cr_edge_arrow_x(Agedge_t *e) { return ED_spl(e)->list[0].ep.x; }
static inline double cr_edge_arrow_y(Agedge_t *e) { return ED_spl(e)->list[0].ep.y; }

/* Does this context know the `dot` layout? */
static inline int cr_has_dot_layout(GVC_t *gvc) {
    int count = 0;
    char **names = gvPluginList(gvc, "layout", &count, NULL);
    int found = 0;
    for (int i = 0; i < count; i++) {
        if (names[i] && strcmp(names[i], "dot") == 0) found = 1;
        free(names[i]);
    }
    free(names);
    return found;
}

/* A context whose plugins are linked in by hand: dlopen the dot-layout and
   core plugins from `folder` (Graphviz's plugin folder beside libgvc) and
   hand their library tables to gvContextPlugins. Works without the plugin
   config file (a user's GVBINDIR, a stripped container), where gvContext()
   has no layouts and gvAddLibrary crashes. The table lives in static storage
   because it must outlive the context. NULL when a library is missing. */
static inline GVC_t *cr_context_with_linked_plugins(const char *folder) {
    static lt_symlist_t table[3];
    char path[4096];
    snprintf(path, sizeof path, "%s/libgvplugin_dot_layout.so.6", folder);
    void *dot = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    snprintf(path, sizeof path, "%s/libgvplugin_core.so.6", folder);
    void *core = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!dot || !core) return NULL;
    void *dotLibrary = dlsym(dot, "gvplugin_dot_layout_LTX_library");
    void *coreLibrary = dlsym(core, "gvplugin_core_LTX_library");
    if (!dotLibrary || !coreLibrary) return NULL;
    table[0].name = "gvplugin_dot_layout_LTX_library";
    table[0].address = dotLibrary;
    table[1].name = "gvplugin_core_LTX_library";
    table[1].address = coreLibrary;
    table[2].name = NULL;
    table[2].address = NULL;
    return gvContextPlugins(table, 0);
}
