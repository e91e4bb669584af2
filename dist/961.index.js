"use strict";export const id=961,ids=[961],modules={60961:((s,t,e)=>{e.d(t,{K:()=>n});const n=o=>o===null?null:new Date(o).toISOString()})};
