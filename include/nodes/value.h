/*
 * nodes/value.h -- the value nodes: Integer, Float (kept as its text), Boolean, String and
 * BitString, their accessor macros and constructors.  makeString, makeFloat and makeBitString
 * keep the pointer they are given; they do not copy the text.
 */
#include "postgres.h"

#ifndef BGW_COMPAT_NODES_VALUE_H
#define BGW_COMPAT_NODES_VALUE_H

#include "nodes/nodes.h"

BGW_EXTERN_C_BEGIN

typedef struct Integer
{
	NodeTag type;
	int ival;
} Integer;

typedef struct Float
{
	NodeTag type;
	char *fval;
} Float;

typedef struct Boolean
{
	NodeTag type;
	bool boolval;
} Boolean;

typedef struct String
{
	NodeTag type;
	char *sval;
} String;

typedef struct BitString
{
	NodeTag type;
	char *bsval;
} BitString;

#define intVal(v) (castNode(Integer, v)->ival)
#define floatVal(v) atof(castNode(Float, v)->fval)
#define boolVal(v) (castNode(Boolean, v)->boolval)
#define strVal(v) (castNode(String, v)->sval)

extern Integer *makeInteger(int i);
extern Float *makeFloat(char *numericStr);
extern Boolean *makeBoolean(bool var);
extern String *makeString(char *str);
extern BitString *makeBitString(char *str);

BGW_EXTERN_C_END

#endif /* BGW_COMPAT_NODES_VALUE_H */
