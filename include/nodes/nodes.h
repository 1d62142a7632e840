/*
 * nodes/nodes.h -- node tags and the generic node operations: makeNode, IsA, castNode,
 * copyObject and equal.
 *
 * Only the node types that exist here are tagged: memory contexts, the value nodes of
 * nodes/value.h and the three kinds of List (nodes/pg_list.h), with PostgreSQL 15's values.
 * equal() and copyObject() work on lists and value nodes; any other tag is an ERROR naming it.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_NODES_NODES_H
#define BGW_COMPAT_NODES_NODES_H

BGW_EXTERN_C_BEGIN

typedef enum NodeTag
{
	T_Invalid = 0,

	/* memory contexts (MemoryContextData.type) */
	T_AllocSetContext = 223,
	T_SlabContext = 224,
	T_GenerationContext = 225,

	/* value nodes (nodes/value.h) */
	T_Integer = 226,
	T_Float = 227,
	T_Boolean = 228,
	T_String = 229,
	T_BitString = 230,

	/* lists (nodes/pg_list.h) */
	T_List = 231,
	T_IntList = 232,
	T_OidList = 233
} NodeTag;

/* Every node starts with its tag. */
typedef struct Node
{
	NodeTag type;
} Node;

#define nodeTag(nodeptr) (((const Node *) (nodeptr))->type)
#define NodeSetTag(nodeptr, t) (((Node *) (nodeptr))->type = (t))
#define IsA(nodeptr, _type_) (nodeTag(nodeptr) == T_##_type_)

/* A zeroed node of `size` bytes in CurrentMemoryContext, tagged `tag`. */
static inline Node *
bgw_new_node(Size size, NodeTag tag)
{
	Node	   *node = (Node *) palloc0fast(size);

	node->type = tag;
	return node;
}

#define newNode(size, tag) bgw_new_node((size), (tag))
#define makeNode(_type_) ((_type_ *) newNode(sizeof(_type_), T_##_type_))

/* No checking, as in a PostgreSQL build without assertions. */
#define castNode(_type_, nodeptr) ((_type_ *) (nodeptr))

extern void *copyObjectImpl(const void *obj);
extern bool equal(const void *a, const void *b);

#if defined(__GNUC__) || defined(__clang__)
#define copyObject(obj) ((__typeof__(obj)) copyObjectImpl(obj))
#else
#define copyObject(obj) copyObjectImpl(obj)
#endif

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_NODES_NODES_H */
